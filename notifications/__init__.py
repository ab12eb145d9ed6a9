"""Push delivery adapters (FCM); no database imports here."""
