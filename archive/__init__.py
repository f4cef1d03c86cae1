"""The archive: one SQLite database of status-page incidents, its schema and its storage."""
