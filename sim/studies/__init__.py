"""Studies of particular systems: their published figures, prose and inputs, kept out of the library."""
