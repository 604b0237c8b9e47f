"""Event ingestion: capture bodies → normalized events → persons → events table → definitions."""
