"""Starting from the state a service is found in: queues served at once, excess occupancy drains."""

import datetime as dt

import pytest
from pathway_helpers import one_queue, run


def _start(occupied: int, waiting: int, capacity: int = 10, **extra) -> dict:
    return one_queue(capacity, 0.0, 5.0, days=120, warmup=0,
                     initial_state={"ward": {"occupied": occupied, "waiting": waiting}}, **extra)


def test_people_waiting_while_places_are_free_are_served_at_once():
    result = run(_start(occupied=4, waiting=3))
    day0 = result.daily[(result.daily.service == "ward") & (result.daily.day == 0)].iloc[0]
    assert day0.occupancy == 7 and day0.queue == 0
    assert result.kpis["ward.wait_mean"] == 0


def test_more_people_than_places_drain_as_they_leave():
    result = run(_start(occupied=15, waiting=2))
    ward = result.daily[result.daily.service == "ward"].set_index("day")
    assert ward.occupancy[0] == 15 and ward.queue[0] == 2
    assert ward.occupancy.max() == 15
    # the two waiting get in only once occupancy has fallen below capacity
    assert (ward.occupancy[ward.queue == 0] <= 10).all()
    assert result.kpis["conservation.entered"] == 17


def test_a_capacity_cut_on_the_first_day_is_allowed_and_drains():
    start = dt.date(2019, 4, 1)
    data = _start(occupied=10, waiting=0, capacity_events=[
        {"name": "ward closes", "service": "ward", "start": start.isoformat(), "change": {"set": 4}}])
    result = run(data)
    ward = result.daily[result.daily.service == "ward"].set_index("day")
    assert ward.capacity[0] == 4 and ward.occupancy[0] == 10
    assert ward.occupancy.iloc[-1] <= 4


def test_remaining_stays_are_length_biased():
    # Exponential stays of mean 5 days: the rest of a stay found under way is also exponential, mean 5.
    data = one_queue(None, 0.0, 5.0, days=200, warmup=0, initial_state={"ward": {"occupied": 4000}})
    k = run(data).kpis
    assert k["ward.occupancy_mean"] * 200 / 4000 == pytest.approx(5.0, rel=0.05)


def test_a_child_scenario_can_remove_an_inherited_initial_state(tmp_path):
    import yaml
    from pathway_helpers import load

    parent = _start(occupied=3, waiting=0)
    (tmp_path / "parent.yaml").write_text(yaml.safe_dump(parent))
    (tmp_path / "child.yaml").write_text("extends: parent.yaml\nname: empty start\ninitial_state: {ward: null}\n")
    assert load(tmp_path / "child.yaml").active_initial_state() == {}
