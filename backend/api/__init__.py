"""GraphQL API: context, ids, errors, pagination and the assembled schema."""
