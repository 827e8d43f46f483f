"""Sluice's benchmark harness: each module runs as `python -m benchmarks.<name>` and prints
one JSON object with its figures as its last line, measured against a baseline in the same run."""
