"""Speed as a measured property of the project: `python -m benchmarks` (see docs/performance.md)."""
