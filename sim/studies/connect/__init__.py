"""The Connect programme in Mid and South Essex: its evaluation reproduced (validation) and its sensitivity."""
