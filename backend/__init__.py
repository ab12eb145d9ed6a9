"""Kizuna: the city OS backend behind a municipality's resident app."""
