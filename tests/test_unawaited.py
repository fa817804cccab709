"""Journeys nobody waits on: run like SimPy processes, without a start or an end event."""

import pytest
import simpy

from sim.pathway.unawaited import start


def test_it_runs_at_once_resumes_on_its_events_and_schedules_nothing_at_its_end():
    env = simpy.Environment()
    seen = []

    def story():
        seen.append(("start", env.now))
        value = yield env.timeout(2.0, value="done")
        seen.append((value, env.now))
        yield env.timeout(0.5)
        seen.append(("end", env.now))

    start(story())
    assert seen == [("start", 0.0)]      # ran up to its first yield, with no event to start it
    assert len(env._queue) == 1           # only its own timeout is scheduled
    env.run()
    assert seen == [("start", 0.0), ("done", 2.0), ("end", 2.5)]
    assert not env._queue                 # and nothing when it ended


def test_an_event_already_processed_is_taken_at_once():
    env = simpy.Environment()
    ready = env.event().succeed(7)
    env.run()                             # processed
    got = []

    def story():
        got.append((yield ready))

    start(story())
    assert got == [7]


def test_a_failed_event_is_thrown_into_it_and_an_error_stops_the_run():
    env = simpy.Environment()
    caught = []

    def handles():
        try:
            yield env.event().fail(ValueError("no bed"))
        except ValueError as error:
            caught.append(str(error))

    def breaks():
        yield env.timeout(1)
        raise RuntimeError("a bug")

    start(handles())
    start(breaks())
    with pytest.raises(RuntimeError, match="a bug"):
        env.run()
    assert caught == ["no bed"]
