"""Danger-spot reports (危険箇所): posted by residents, moderated, avoided by routes."""
