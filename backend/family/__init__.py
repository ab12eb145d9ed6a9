"""Family groups: invitations, membership, leaving and removal."""
