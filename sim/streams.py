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


class Streams:
    """All the named streams of one replication."""

    def __init__(self, seed: int, replication: int):
        self.seed = int(seed)
        self.replication = int(replication)
        self._uniform: dict[str, _Batched] = {}
        self._normal: dict[str, _Batched] = {}

    def generator(self, name: str) -> np.random.Generator:
        return generator_for(self.seed, self.replication, name)

    def uniform(self, name: str) -> _Batched:
        """A callable giving uniform [0, 1) draws from the stream `name`."""
        stream = self._uniform.get(name)
        if stream is None:
            stream = self._uniform[name] = _Batched(self.generator("u:" + name).random)
        return stream

    def normal(self, name: str) -> _Batched:
        """A callable giving standard normal draws from the stream `name`."""
        stream = self._normal.get(name)
        if stream is None:
            stream = self._normal[name] = _Batched(self.generator("z:" + name).standard_normal)
        return stream
