"""The episode log: it changes nothing in the run it watches, ordinary runs carry none of it, and it sees every
admission, stay and move the model counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.measure.collect import collect
from sim.pathway.episodes import record_episodes
from sim.pathway.kinds import Unit
from sim.pathway.model import Model
from sim.pathway.routing import Router
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def small():
    scenario = load_scenario(ROOT / "examples" / "small-system.yaml")
    return scenario.with_changes({"run.horizon_days": 120, "run.warmup_days": 60})


@pytest.fixture(scope="module")
def watched(small):
    model = Model(small, 0)
    log = record_episodes(model)
    model.run()
    return model, log


def test_the_log_changes_nothing_and_ordinary_runs_carry_none_of_it(small, watched):
    plain = Model(small, 0)
    assert "left" not in vars(plain.unit_list[0]) and "follow" not in vars(plain.router)  # the classes' own
    assert plain.unit_list[0].left.__func__ is Unit.left and plain.router.follow.__func__ is Router.follow
    plain.run()
    assert collect(watched[0]).kpis == collect(plain).kpis


def test_every_admission_is_an_episode_and_every_move_a_destination(watched):
    model, log = watched
    rows = log.rows(model)
    measured = [e for e in rows if e.arrived >= model.measure_from]
    for service, units in model.units.items():
        admissions = sum(u.admissions for u in set(units.values()))
        assert sum(e.service == service for e in measured) == admissions, service
    done = [e for e in rows if e.left is not None]
    assert all(e.arrived <= e.ready <= e.left for e in done)
    # every move to a service is the person's next episode there, which says where they came from
    nxt: dict[int, list] = {}
    for e in rows:
        nxt.setdefault(e.person, []).append(e)
    moves = 0
    for episodes in nxt.values():
        for before, after in zip(episodes, episodes[1:]):
            if before.to in ("home", "died", "left"):
                # back later from home (a readmission or a later placement: `afterwards:`)
                assert after.came_from == "home"
            else:
                assert before.to == after.service and after.came_from == before.service
            assert after.arrived >= before.left
            moves += 1
        last = episodes[-1]
        assert last.left is None or last.to in ("home", "died", "left") or last.to in model.units
    assert moves > 500
    # pathways are those of the discharge decisions
    pathways = {e.pathway for e in done if e.service == "acute"}
    assert pathways == {None, 0, 1, 2, 3}
