"""Authentication (OIDC bearer tokens, development tokens) and principals."""
