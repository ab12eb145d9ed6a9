"""Push: residents' devices and preferences, the in-app inbox, and the delivery outbox."""
