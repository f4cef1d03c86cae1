"""What every layer shares: typed items, UTC times, the sources file and its kinds."""
