"""Benchmarks that print figures; they are not tests. `python -m bench` runs them all."""
