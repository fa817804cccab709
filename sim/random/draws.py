"""A person's luck: the draw of each named stream that belongs to them, read by their index.

A family of people (crises, people found in a service at the start, arrivals
straight into a service) numbers its people 0, 1, 2, ... in the order they
appear. Every decision and duration has its own stream, and person i of a
family always reads draw i of it: the k-th time they meet the same decision,
draw i of the stream `name#k`. So two scenarios meet the same people with the
same luck at every decision they share, whatever else differs, and adding a
service or a route shifts no other draw (common random numbers).

Streams are drawn in blocks into plain arrays as people need them.
"""

from __future__ import annotations

from array import array

from sim.random.streams import generator_for

BLOCK = 2048


class Family:
    """The streams of one family of people in one replication."""

    __slots__ = ("name", "seed", "replication", "size", "_uniform", "_normal", "_fills")

    def __init__(self, seed: int, replication: int, name: str):
        self.name = name
        self.seed = seed
        self.replication = replication
        self.size = 0  # people made so far
        # stream -> its draws so far, in order (a plain array, read by index)
        self._uniform: dict[str, array] = {}
        self._normal: dict[str, array] = {}
        self._fills: dict[tuple[str, str], object] = {}  # (kind, stream) -> the generator's fill

    def next_index(self) -> int:
        index = self.size
        self.size += 1
        return index

    def uniform(self, stream: str, index: int) -> float:
        """Draw `index` of the uniform [0, 1) stream `stream`."""
        values = self._uniform.get(stream)
        if values is None or index >= len(values):
            values = self._grow(self._uniform, "u", stream, index)
        return values[index]

    def set_normal(self, stream: str, index: int, value: float) -> None:
        """Give person `index` this normal score in `stream` (a stay found under way at the start)."""
        self.normal(stream, index)
        self._normal[stream][index] = value

    def normal(self, stream: str, index: int) -> float:
        """Draw `index` of the standard normal stream `stream`."""
        values = self._normal.get(stream)
        if values is None or index >= len(values):
            values = self._grow(self._normal, "z", stream, index)
        return values[index]

    def _grow(self, columns: dict[str, array], kind: str, stream: str, index: int) -> array:
        """The stream's draws, drawn on a block at a time until draw `index` is among them."""
        values = columns.get(stream)
        if values is None:
            rng = generator_for(self.seed, self.replication, f"{kind}:{self.name}/{stream}")
            self._fills[(kind, stream)] = rng.random if kind == "u" else rng.standard_normal
            values = columns[stream] = array("d")
        fill = self._fills[(kind, stream)]
        while index >= len(values):
            values.frombytes(fill(BLOCK).tobytes())
        return values
