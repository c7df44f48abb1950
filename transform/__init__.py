"""Pure transformations: bytes/text in, canonical rows out. No network, no database."""
