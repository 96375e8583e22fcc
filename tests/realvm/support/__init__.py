"""The real-guest harness: image, daemon, faults (shared by the tests and harness.py)."""
