"""Readers of outside alert formats; each turns one parsed document into ``AlertDraft``s."""
