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


class _Column:
    """One stream's draws, in order, grown a block at a time."""

    __slots__ = ("values", "_fill")

    def __init__(self, fill):
        self.values = array("d")
        self._fill = fill

    def grow_to(self, index: int) -> array:
        values = self.values
        while index >= len(values):
            values.frombytes(self._fill(BLOCK).tobytes())
        return values


class Family:
    """The streams of one family of people in one replication."""

    __slots__ = ("name", "seed", "replication", "size", "_uniform", "_normal")

    def __init__(self, seed: int, replication: int, name: str):
        self.name = name
        self.seed = seed
        self.replication = replication
        self.size = 0  # people made so far
        self._uniform: dict[str, _Column] = {}
        self._normal: dict[str, _Column] = {}

    def next_index(self) -> int:
        index = self.size
        self.size += 1
        return index

    def uniform(self, stream: str, index: int) -> float:
        """Draw `index` of the uniform [0, 1) stream `stream`."""
        column = self._uniform.get(stream) or self._column(self._uniform, "u", stream)
        values = column.values
        return values[index] if index < len(values) else column.grow_to(index)[index]

    def set_normal(self, stream: str, index: int, value: float) -> None:
        """Give person `index` this normal score in `stream` (a stay found under way at the start)."""
        self.normal(stream, index)
        self._normal[stream].values[index] = value

    def normal(self, stream: str, index: int) -> float:
        """Draw `index` of the standard normal stream `stream`."""
        column = self._normal.get(stream) or self._column(self._normal, "z", stream)
        values = column.values
        return values[index] if index < len(values) else column.grow_to(index)[index]

    def _column(self, columns: dict[str, _Column], kind: str, stream: str) -> _Column:
        rng = generator_for(self.seed, self.replication, f"{kind}:{self.name}/{stream}")
        column = columns[stream] = _Column(rng.random if kind == "u" else rng.standard_normal)
        return column
