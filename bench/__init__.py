"""Benchmarks (``make bench``): kept out of ``make test``."""
