"""Bring your own data: a system's records (docs/records.md) read, checked and fitted into a scenario, and
the records a scenario's simulated people would leave (synthesize)."""
