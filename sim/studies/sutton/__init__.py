"""Sutton Health and Care at Home, the London Borough of Sutton's integrated provider alliance: its baseline,
its first-year figures against the simulation (validation), and the assumptions where public figures ran out."""
