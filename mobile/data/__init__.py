"""The phone's own SQLite database: client mirror, outbox, sync state (not the server's)."""
