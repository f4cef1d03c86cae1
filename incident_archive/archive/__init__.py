"""The archive: one SQLite file, its schema and views, and the one writer. Never imports the crawler."""
