"""Test and demo support: a local replay server and status pages recorded in their real formats."""
