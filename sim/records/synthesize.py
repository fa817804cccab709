"""The records a scenario's simulated people would leave: episodes (and a daily census) in the record format.

One replication of the scenario runs with an episode log attached
(sim/pathway/episodes.py). The records cover the measured period: every
episode that began in it, with ready and left blank where the run ended
first, as an extract taken on the last day would show. Pseudonymous ids are
the simulation's own. The same scenario and seed give the same records.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from sim.pathway.episodes import record_episodes
from sim.pathway.model import Model
from sim.records.format import CENSUS_COLUMNS, EPISODE_COLUMNS, names
from sim.scenario import Scenario


def synthesize(scenario: Scenario, replication: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(episodes, census) of one replication, as the record format's columns (text dates)."""
    model = Model(scenario, replication)
    log = record_episodes(model)
    model.run()
    if not log.done and any(unit.admissions for unit in model.unit_list):
        # the log wraps the units' entered/left and the router's follow (sim/pathway/episodes.py)
        raise RuntimeError("the episode log saw no episode although people were admitted: sim/pathway no longer "
                           "takes people in and lets them go through Unit.entered, Unit.left and Router.follow")
    start = model.measure_from
    epoch = pd.Timestamp(scenario.run.start_date)
    rows = [e for e in log.rows(model) if start <= e.arrived < model.end]
    many_places = model.many_places

    def when(values) -> list[str]:
        times = pd.Series(values, dtype=float)
        stamps = epoch + pd.to_timedelta((times - start) * 1440, unit="min").dt.round("min")
        return stamps.dt.strftime("%Y-%m-%d %H:%M").fillna("").tolist()

    episodes = pd.DataFrame({
        "person_id": [f"S{e.person:07d}" for e in rows],
        "service": [e.service for e in rows],
        "arrived": when([e.arrived for e in rows]),
        "ready": when([np.nan if e.ready is None else e.ready for e in rows]),
        "left": when([np.nan if e.left is None else e.left for e in rows]),
        "to": [e.to or "" for e in rows],
        "pathway": ["" if e.pathway is None else str(e.pathway) for e in rows],
        "came_from": [e.came_from for e in rows],
        "need_group": [e.group for e in rows],
        "place": [e.place if many_places else "" for e in rows],
    }, columns=names(EPISODE_COLUMNS))
    return episodes, _census(model, epoch)


def _census(model: Model, epoch: pd.Timestamp) -> pd.DataFrame:
    first = int(model.measure_from)
    days = np.arange(first, model.days)
    units = model.unit_list
    services = list(dict.fromkeys(u.name for u in units))
    frames = []
    for service in services:
        index = [i for i, u in enumerate(units) if u.name == service]
        block = model.daily[first:, index, :]
        capacity = block[:, :, 2].sum(axis=1)
        frames.append(pd.DataFrame({
            "service": service,
            "date": [(epoch + dt.timedelta(days=int(d - first))).strftime("%Y-%m-%d") for d in days],
            "occupied": block[:, :, 0].sum(axis=1).astype(int),
            "waiting": block[:, :, 1].sum(axis=1).astype(int),
            "capacity": [("" if not np.isfinite(c) else f"{c:g}") for c in capacity],
        }))
    return pd.concat(frames, ignore_index=True)[names(CENSUS_COLUMNS)]
