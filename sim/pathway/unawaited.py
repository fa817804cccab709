"""Processes nobody waits on: a person's journey resumed by callbacks, without SimPy's start and end events.

`env.process(generator)` costs two events besides the generator's own: one to
start it (at once, before anything else at that instant) and one when it ends,
so that others can wait on it. Nobody waits on a person's journey, and those
two are about two of every five events of a run. `start` runs the generator at
once up to its first yield, and resumes it from the callbacks of each event it
yields, as `simpy.Process` does; when it ends, nothing is scheduled. A
generator that raises stops the run, as a failed process nobody waits on does.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy


class _Unawaited:
    __slots__ = ("generator",)

    def __init__(self, generator: Generator):
        self.generator = generator

    def resume(self, event: simpy.Event | None) -> None:
        generator = self.generator
        try:
            while True:
                if event is None:
                    event = next(generator)
                elif event._ok:
                    event = generator.send(event._value)
                else:  # the generator handles the failed event, or the run stops
                    event._defused = True
                    event = generator.throw(event._value)
                if event.callbacks is not None:  # not processed yet: resume when it is
                    event.callbacks.append(self.resume)
                    return
        except StopIteration:
            return


def start(generator: Generator) -> None:
    """Run `generator` as a SimPy process nobody can wait on, starting now."""
    _Unawaited(generator).resume(None)
