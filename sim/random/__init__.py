"""Randomness that reproduces: distributions from scenario data, and named, seeded streams."""
