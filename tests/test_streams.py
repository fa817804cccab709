"""Named random streams: stable, independent of creation order, and batched without changing values; a family's draws by person."""

import numpy as np

from sim.random.draws import BLOCK, Family
from sim.random.streams import BATCH, Streams, generator_for, stable_hash


def test_stable_hash_is_fixed_across_runs_and_machines():
    # Pinned: a change here would change every published result.
    assert stable_hash("arrivals") == 0xDC91105E690BAC15
    assert stable_hash("arrivals") != stable_hash("arrival")


def test_adding_a_stream_does_not_change_the_others():
    a = Streams(7, 3)
    first = [a.uniform("acute_los")() for _ in range(10)]
    b = Streams(7, 3)
    b.uniform("a_brand_new_stream")()
    b.normal("another")()
    assert [b.uniform("acute_los")() for _ in range(10)] == first


def test_replications_and_seeds_give_different_streams():
    base = Streams(7, 0).uniform("x")()
    assert Streams(7, 1).uniform("x")() != base
    assert Streams(8, 0).uniform("x")() != base
    assert Streams(7, 0).uniform("y")() != base


def test_batches_continue_the_same_sequence():
    stream = Streams(1, 0).uniform("x")
    drawn = [stream() for _ in range(BATCH * 2 + 5)]
    expected = generator_for(1, 0, "u:x").random(BATCH * 3)[: BATCH * 2 + 5]
    # Each refill draws the next batch from the same generator, so values match one long draw.
    assert np.allclose(drawn, expected)


def test_normal_and_uniform_streams_of_one_name_are_distinct():
    s = Streams(1, 0)
    u = [s.uniform("x")() for _ in range(1000)]
    z = [s.normal("x")() for _ in range(1000)]
    assert 0 <= min(u) and max(u) < 1
    assert abs(np.mean(z)) < 0.1 and abs(np.std(z) - 1) < 0.1


# --- a family's draws, read by person (sim/random/draws.py) ---------------------------------------------

def test_person_i_reads_draw_i_of_each_stream_whatever_the_order():
    first, second = Family(7, 0, "crisis"), Family(7, 0, "crisis")
    forward = [first.uniform("route.P1", i) for i in range(BLOCK + 10)]
    backward = [second.uniform("route.P1", i) for i in reversed(range(BLOCK + 10))][::-1]
    assert forward == backward
    # Draw i is element i of the stream's own generator, across blocks.
    assert np.allclose(forward, generator_for(7, 0, "u:crisis/route.P1").random(BLOCK * 2)[: BLOCK + 10])


def test_a_new_stream_or_family_shifts_no_other_draw():
    plain, busy = Family(7, 0, "crisis"), Family(7, 0, "crisis")
    busy.uniform("route.brand_new", 5)
    busy.normal("virtual_ward.stay", 9)
    assert [busy.normal("acute.stay", i) for i in range(50)] == [plain.normal("acute.stay", i) for i in range(50)]
    other = Family(7, 0, "arrivals.system.reablement")
    assert other.normal("acute.stay", 0) != plain.normal("acute.stay", 0)
    assert Family(7, 1, "crisis").normal("acute.stay", 0) != plain.normal("acute.stay", 0)


def test_a_stay_found_under_way_can_be_given_its_score():
    family = Family(1, 0, "initial.acute")
    family.set_normal("acute.stay", 3, 2.5)
    assert family.normal("acute.stay", 3) == 2.5
    assert family.normal("acute.stay", 2) == Family(1, 0, "initial.acute").normal("acute.stay", 2)
