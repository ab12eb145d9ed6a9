"""Database engine, sessions, base model and portable column types."""
