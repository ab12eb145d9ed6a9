"""Bundled applications (一括申請): forms, bundles, submissions and their review."""
