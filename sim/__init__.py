"""care-pathway-sim: a discrete-event simulation of urgent and intermediate care for people aged 65+."""

__version__ = "0.1.0"
