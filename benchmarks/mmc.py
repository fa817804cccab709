"""One M/M/c queue, run three ways: by our model, by plain SimPy, and by Ciw.

The queue is an acute ward: Poisson admissions, exponential stays, `beds`
beds, first come first served. Our model runs it as the baseline reduced
to its acute beds (crises go straight there, and home), so the difference
from plain SimPy is the cost of the model's generality: a person's need
group, means and traits, routing, counters, flows, the daily census.
Each run returns how many patients arrived and the mean wait, so a caller can
check the three did the same work.
"""

from __future__ import annotations

from dataclasses import dataclass

import ciw
import numpy as np
import simpy

from sim.measure.collect import run_replication
from sim.scenario import Scenario, validate


@dataclass(frozen=True)
class Queue:
    arrivals_per_day: float
    mean_stay_days: float
    beds: int
    days: float

    @property
    def utilisation(self) -> float:
        return self.arrivals_per_day * self.mean_stay_days / self.beds


@dataclass(frozen=True)
class Run:
    patients: int        # arrivals in the run
    mean_wait_days: float


def as_scenario(base: Scenario, queue: Queue, seed: int) -> Scenario:
    """The model reduced to a single M/M/c service: crises go straight to the acute beds, then home."""
    data = base.resolved
    acute = data["services"]["acute"]
    acute.update(capacity=queue.beds, los_days={"dist": "exponential", "mean": queue.mean_stay_days}, then="home",
                 discharge_process=None, escalation=None)
    data["services"] = {"acute": acute}
    data["routes"] = {}
    data["afterwards"] = {}  # nobody comes back: a plain queue
    data["sources"] = {}  # they cite the services and routes left out
    data["initial_state"] = {}  # people in long-term care: those services are left out
    data["funding"]["spend_down"] = {}
    data["run"].update(horizon_days=int(queue.days), warmup_days=0, seed=seed)
    data["demand"].update(enters="acute", crises_per_year=queue.arrivals_per_day * 365, surges=[],
                          weekday_multipliers=[1.0] * 7, monthly_multipliers=[1.0] * 12)
    for group in data["need_groups"].values():
        group["los_multiplier"] = 1.0
    return validate(data, base.path or "baseline.yaml")


def run_model(scenario: Scenario) -> Run:
    """One replication as real runs do it: simulate, collect the results, check the invariants."""
    kpis = run_replication(scenario, 0).kpis
    return Run(int(kpis["conservation.entered"]), kpis["acute.wait_mean"])


def run_simpy(queue: Queue, seed: int) -> Run:
    """The textbook SimPy M/M/c, its random numbers drawn up front in two numpy calls."""
    rng = np.random.default_rng(seed)
    expected = int(queue.arrivals_per_day * queue.days * 1.1 + 100)
    gaps = rng.exponential(1 / queue.arrivals_per_day, expected).tolist()
    stays = rng.exponential(queue.mean_stay_days, expected).tolist()
    env = simpy.Environment()
    beds = simpy.Resource(env, capacity=queue.beds)
    waits: list[float] = []

    def patient(stay: float):
        arrived = env.now
        with beds.request() as bed:
            yield bed
            waits.append(env.now - arrived)
            yield env.timeout(stay)

    def admissions():
        for gap, stay in zip(gaps, stays):
            yield env.timeout(gap)
            env.process(patient(stay))

    env.process(admissions())
    env.run(until=queue.days)
    arrived = int(np.searchsorted(np.cumsum(gaps), queue.days))
    return Run(arrived, float(np.mean(waits)))


def run_ciw(queue: Queue, seed: int) -> Run:
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=queue.arrivals_per_day)],
        service_distributions=[ciw.dists.Exponential(rate=1 / queue.mean_stay_days)],
        number_of_servers=[queue.beds],
    )
    ciw.seed(seed)
    simulation = ciw.Simulation(network)
    simulation.simulate_until_max_time(queue.days)
    records = simulation.get_all_records()
    served = [r.waiting_time for r in records]
    still_inside = sum(len(node.all_individuals) for node in simulation.transitive_nodes)
    return Run(len(records) + still_inside, float(np.mean(served)))
