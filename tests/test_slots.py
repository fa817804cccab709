"""Places a service offers at once: first come first served, capacity changes drain, counts that add up."""

import math

import simpy

from sim.pathway.slots import Slots


def test_requests_beyond_capacity_queue_in_order_and_are_served_as_places_free():
    env = simpy.Environment()
    slots = Slots(env, "ward", 2)
    first, second, third = (slots.request() for _ in range(3))
    assert first.triggered and second.triggered and not third.triggered
    assert len(slots.queue) == 1
    slots.release()
    assert third.triggered and slots.in_use == 2 and not slots.queue


def test_a_capacity_cut_puts_nobody_out_and_admits_nobody_until_below_it():
    env = simpy.Environment()
    slots = Slots(env, "ward", 4)
    for _ in range(4):
        slots.request()
    waiting = slots.request()
    slots.set_capacity(2)
    assert slots.in_use == 4
    slots.release()
    slots.release()
    assert not waiting.triggered        # 2 in use, capacity 2
    slots.release()
    assert waiting.triggered and slots.over_capacity == 0


def test_people_found_above_capacity_are_in_and_drain():
    env = simpy.Environment()
    slots = Slots(env, "ward", 1)
    for _ in range(3):
        slots.occupy_at_start()
    late = slots.request()
    assert slots.in_use == 3 and not late.triggered and slots.over_capacity == 0
    for _ in range(3):
        slots.release()
    assert late.triggered


def test_a_withdrawn_request_leaves_the_queue_and_counts_add_up():
    env = simpy.Environment()
    slots = Slots(env, "team", 1)
    slots.request()
    gave_up = slots.request()
    slots.cancel(gave_up)
    assert not slots.queue and slots.cancelled == 1
    assert slots.requested == slots.granted + slots.cancelled + len(slots.queue)


def test_time_weighted_occupancy_and_unlimited_capacity():
    env = simpy.Environment()
    slots = Slots(env, "ward", None)
    assert slots.unlimited and slots.capacity == math.inf

    def stay():
        slots.request()
        yield env.timeout(3)
        slots.release()

    env.process(stay())
    env.process(stay())
    env.run(until=10)
    slots.close()
    assert slots.area_in_use == 6.0 and slots.peak_in_use == 2
