"""Named random streams, one family per replication.

A stream is keyed by (seed, replication, stable hash of its name), never by
the order in which streams are created, so adding a stream to the model does
not change the draws of any existing one, and replication *i* of two
scenarios sees the same numbers in every stream they share (common random
numbers). Draws come from pre-filled batches: one numpy call per few thousand
draws rather than one per draw.
"""

from __future__ import annotations

import hashlib

import numpy as np

BATCH = 4096


def stable_hash(name: str) -> int:
    """A 64-bit hash of a stream name that is the same on every machine and run."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")


def generator_for(seed: int, replication: int, name: str) -> np.random.Generator:
    sequence = np.random.SeedSequence(seed, spawn_key=(replication, stable_hash(name)))
    return np.random.Generator(np.random.PCG64(sequence))


class _Batched:
    """Hands out one float at a time from a refilled numpy batch."""

    __slots__ = ("_fill", "_buffer", "_index")

    def __init__(self, fill):
        self._fill = fill
        self._buffer = fill(BATCH).tolist()
        self._index = 0

    def __call__(self) -> float:
        i = self._index
        if i == BATCH:
            self._buffer = self._fill(BATCH).tolist()
            i = 0
        self._index = i + 1
        return self._buffer[i]


class _BatchedRows:
    """Hands out one row at a time: the next draw of each of several named streams, together.

    Each column is its own stream, so row k holds the k-th draw of every
    stream, exactly as if each were drawn on its own: one numpy call per
    stream per batch, and one Python call per row instead of one per draw.
    """

    __slots__ = ("_fills", "_rows", "_index")

    def __init__(self, fills):
        self._fills = fills
        # Filled on first use: a family of streams a run never draws from (readmissions in a
        # short run) costs nothing.
        self._rows: list[tuple[float, ...]] = []
        self._index = BATCH

    def _refill(self) -> list[tuple[float, ...]]:
        # Transposing Python lists is several times faster than ndarray.tolist() on a 2-D array.
        return list(zip(*(fill(BATCH).tolist() for fill in self._fills)))

    def __call__(self) -> tuple[float, ...]:
        i = self._index
        if i == BATCH:
            self._rows = self._refill()
            i = 0
        self._index = i + 1
        return self._rows[i]


class Streams:
    """All the named streams of one replication."""

    def __init__(self, seed: int, replication: int):
        self.seed = int(seed)
        self.replication = int(replication)
        self._uniform: dict[str, _Batched] = {}
        self._normal: dict[str, _Batched] = {}
        self._claimed: set[str] = set()

    def generator(self, name: str) -> np.random.Generator:
        return generator_for(self.seed, self.replication, name)

    def uniform(self, name: str) -> _Batched:
        """A callable giving uniform [0, 1) draws from the stream `name`."""
        stream = self._uniform.get(name)
        if stream is None:
            self._claim("u:" + name)
            stream = self._uniform[name] = _Batched(self.generator("u:" + name).random)
        return stream

    def normal(self, name: str) -> _Batched:
        """A callable giving standard normal draws from the stream `name`."""
        stream = self._normal.get(name)
        if stream is None:
            self._claim("z:" + name)
            stream = self._normal[name] = _Batched(self.generator("z:" + name).standard_normal)
        return stream

    def rows(self, uniform: tuple[str, ...], normal: tuple[str, ...]) -> _BatchedRows:
        """A callable giving (uniform draws..., normal draws...) from those named streams, one row a call.

        The columns are the streams `uniform(name)` and `normal(name)` would give.
        """
        fills = []
        for name in uniform:
            fills.append(self.generator(self._claim("u:" + name)).random)
        for name in normal:
            fills.append(self.generator(self._claim("z:" + name)).standard_normal)
        return _BatchedRows(fills)

    def _claim(self, key: str) -> str:
        # Two draws of one stream from separate places would hand out the same numbers twice.
        if key in self._claimed:
            raise ValueError(f"the stream '{key[2:]}' is already being drawn from elsewhere")
        self._claimed.add(key)
        return key
