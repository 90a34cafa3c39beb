"""Benchmarks: every speed claim measured side by side with the plain ASE loop a user
would write. Run ``python -m benchmarks [--quick]``."""
