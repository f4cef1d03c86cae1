"""Published datasets (the ICPE 2025 study) brought into the archive."""
