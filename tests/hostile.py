"""Inputs an attacker sends, shared by the tests that show the server copes with them."""

from __future__ import annotations


def doubling_fragments(count: int) -> str:
    """query{...F0} where each fragment spreads the next one twice: 2^count if walked naively."""
    fragments = " ".join(
        f"fragment F{i} on Query {{ __typename ...F{i + 1} ...F{i + 1} }}" for i in range(count)
    )
    return f"query {{ ...F0 }} {fragments} fragment F{count} on Query {{ __typename }}"
