"""Personalized service portal: catalog, myPortal sections, usage."""
