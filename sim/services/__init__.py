"""One module per service of the pathway; each owns its capacity and its counters."""
