"""Grid operations: assignment of buildings, validity checks, statistics."""
