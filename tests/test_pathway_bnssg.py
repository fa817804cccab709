"""Another system by YAML alone: the BNSSG discharge-to-assess model (IPACS inputs) as three places."""

import numpy as np
import pytest
from pathway_helpers import load, run

# (service, place): (waiting at start, capacity, arrivals a day, mean stay) from the IPACS inputs
OVERLOADED = {
    ("p2", "north_somerset"): (15, 28, 2.34, 38.28),
    ("p3", "bristol"): (43, 72, 1.95, 59.15),
    ("p3", "south_glos"): (11, 37, 2.32, 32.18),
}


@pytest.mark.slow
def test_overloaded_nodes_queue_grows_at_arrivals_minus_capacity_over_stay():
    scenario = load("scenarios/bnssg/baseline.yaml")
    results = [run(scenario, r) for r in range(4)]
    for (service, place), (waiting, capacity, per_day, mean_stay) in OVERLOADED.items():
        queues = []
        for result in results:
            daily = result.daily_by_place
            row = daily[(daily.service == service) & (daily.place == place) & (daily.day == 180)]
            queues.append(float(row.queue.iloc[0]))
        expected = waiting + (per_day - capacity / mean_stay) * 180
        assert np.mean(queues) == pytest.approx(expected, rel=0.15), (service, place, queues, expected)


def test_three_places_run_as_one_system_that_sums_its_places():
    result = run(load("scenarios/bnssg/baseline.yaml"))
    k = result.kpis
    for measure in ("admissions", "arrivals"):
        for service in ("p1", "p2", "p3"):
            parts = sum(k[f"place.{p}.{service}.{measure}"] for p in ("bristol", "north_somerset", "south_glos"))
            assert k[f"{service}.{measure}"] == parts
    day0 = result.daily_by_place[(result.daily_by_place.day == 0) & (result.daily_by_place.service == "p2")]
    # South Glos starts with 68 people in 61 beds: let in as found, and they drain
    assert day0.set_index("place").occupancy["south_glos"] == 68
