"""Experiments: many replications of one scenario (and its comparator), summarised with 95% CIs.

The number of replications is either given, or chosen by the sequential
procedure of Hoad, Robinson and Davies (2010, JORS 61:1632): add replications
until the 95% CI half-width of every chosen KPI is within a target share of its
mean, and stays there for a few more replications (the look-ahead), with a cap.
Replication *i* of every role uses the streams (seed, i): the scenario and its
comparator meet the same luck (common random numbers), and a replication's
numbers never depend on which worker ran it or when.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import platform
import shutil
import subprocess
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd

from sim import budget
from sim.executors import Executor, Task, interruptible, make_executor, scenario_json
from sim.intervals import confidence_interval, relative
from sim.measure import costs as unit_costs
from sim.measure.costs import CostLine
from sim.pathway.long_term import YEAR_DAYS, discount_rate
from sim.measure.kpis import _cost_kpis, apply_measures, describe  # _cost_kpis: re-priced cost KPIs as a run makes them
from sim.results import ROLES, ResultSet
from sim.scenario import Scenario
from sim.store import (PROGRAM, TABLES, Store, StoreError, assemble, check_writable, load, locked, normalise,
                       scenario_entry)
from sim.trust import assess

DEFAULT_PRECISION_KPIS = ("acute.admissions", "acute.occupancy_mean", "delayed.bed_days", "cost.total")
PACKAGES = ("care-pathway-sim", "simpy", "numpy", "scipy", "pandas", "pyarrow", "pydantic", "pyyaml")


@dataclass(frozen=True)
class Precision:
    """Hoad-Robinson-Davies stopping rule for the number of replications."""

    target: float = 0.05
    kpis: tuple[str, ...] = DEFAULT_PRECISION_KPIS
    min_replications: int = 3
    max_replications: int = 50
    look_ahead: int = 5

    def look_ahead_at(self, n: int) -> int:
        return self.look_ahead if n <= 100 else math.floor(self.look_ahead * n / 100)

    def achieved(self, tables: list[pd.DataFrame], n: int) -> bool:
        for table in tables:
            for kpi in self.kpis:
                mean, low, high = confidence_interval(table[kpi].to_numpy()[:n])
                if math.isnan(low) or relative((high - low) / 2, mean) > self.target:
                    return False
        return True

    def decide(self, tables: list[pd.DataFrame]) -> tuple[int, int] | None:
        """(replications to use, first n achieving the precision or 0) once known, else None for more.

        `tables` hold replications 0..available-1 of each role (rows in order, a column per KPI).
        """
        available = min(len(t) for t in tables)
        for n in range(self.min_replications, available + 1):
            if not self.achieved(tables, n):
                continue
            confirm = min(n + self.look_ahead_at(n), self.max_replications)
            if confirm > available:
                return None
            if all(self.achieved(tables, m) for m in range(n + 1, confirm + 1)):
                return (confirm, n)
        return (available, 0) if available >= self.max_replications else None


class Progress:
    """What an experiment reports as it goes; the CLI shows it as a progress bar."""

    def begin(self, total: int, done: int) -> None:
        pass

    def advance(self) -> None:
        pass


def _git_commit() -> dict[str, str | bool | None]:
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip() != ""
        return {"commit": commit, "uncommitted_changes": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "uncommitted_changes": None}


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _code_hash() -> str:
    """A hash of the model's source files: replications of a resumed run must come from the same code."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Plan:
    """How many replications (a number, or a precision to reach) and which of them this process runs."""

    replications: int | None = None       # fixed number; None with precision = sequential
    precision: Precision | None = None
    shard: tuple[int, int] | None = None  # (index from 0, count): this process runs rep % count == index

    def __post_init__(self):
        if self.precision is not None and self.shard is not None:
            raise ValueError("a shard runs a fixed set of replications: give a number of replications, not a precision")
        if self.shard is not None and not 0 <= self.shard[0] < self.shard[1]:
            raise ValueError(f"shard {self.shard[0]}/{self.shard[1]}: the index must be from 0 to {self.shard[1] - 1}")

    def mine(self, reps: range) -> list[int]:
        if self.shard is None:
            return list(reps)
        index, count = self.shard
        return [r for r in reps if r % count == index]

    def describe(self) -> dict:
        return {
            "replications": self.replications,
            "precision": asdict(self.precision) if self.precision else None,
            "shard": f"{self.shard[0]}/{self.shard[1]}" if self.shard else None,
        }


class _Replications:
    """The replications of one run as they finish: kept in memory, written to the store, reused on resume."""

    def __init__(self, scenarios: dict[str, Scenario], roles: list[str], seeds: dict[str, int],
                 executor: Executor, store: Store | None, finished: set[tuple[str, int]], progress: Progress):
        self.roles, self.seeds, self.executor, self.store = roles, seeds, executor, store
        self.texts = {role: scenario_json(scenarios[role]) for role in roles}
        self.finished, self.progress = finished, progress
        self.parts: dict[tuple[str, int], dict[str, pd.DataFrame]] = {}
        self.reused = 0

    def ensure(self, reps: list[int]) -> None:
        """Make sure every role has these replications: read back what a stopped run finished, run the rest."""
        needed = [(role, rep) for rep in reps for role in self.roles if (role, rep) not in self.parts]
        for key in [k for k in needed if k in self.finished]:
            self.parts[key] = self.store.read_part(*key)
            self.reused += 1
        tasks = [Task(self.texts[role], role, rep, self.seeds[role]) for role, rep in needed
                 if (role, rep) not in self.parts]
        self.progress.begin(len(self.parts) + len(tasks), len(self.parts))
        for task, tables in self.executor.run(tasks):
            if self.store:
                self.store.write_part(task.role, task.replication, tables)
            self.parts[task.key] = tables
            self.progress.advance()

    def kpi_matrix(self, role: str, n: int) -> pd.DataFrame:
        """Replications 0..n-1 of a role: a row per replication, a column per KPI."""
        long = pd.concat([self.parts[(role, rep)]["kpis"] for rep in range(n)], ignore_index=True)
        return long.pivot(index="replication", columns="kpi", values="value").sort_index()

    def tables(self, reps: list[int]) -> dict[str, pd.DataFrame]:
        wanted = set(reps)
        return assemble({k: v for k, v in self.parts.items() if k[1] in wanted}, self.roles, reps)


def _choose_by_precision(precision: Precision, runs: _Replications) -> tuple[list[int], dict]:
    """Run replications in batches of the worker count until the stopping rule decides."""
    step = max(1, runs.executor.workers)
    n = precision.min_replications
    while True:
        runs.ensure(list(range(n)))
        decision = precision.decide([runs.kpi_matrix(role, n) for role in runs.roles])
        if decision is not None:
            break
        n = min(precision.max_replications, n + step)
    used, first_n = decision
    return list(range(used)), {"replications_used": used, "achieved_at": first_n or None, "achieved": first_n > 0}


def _manifest(scenarios: dict[str, Scenario], roles: list[str], seeds: dict[str, int], plan: Plan,
              extra: dict | None) -> dict:
    """What is being run; `identity` is what must match for a folder's replications to be reused."""
    return {
        "program": PROGRAM,
        "identity": {"scenarios": {r: scenarios[r].content_hash() for r in roles}, "seeds": seeds, **plan.describe()},
        "scenarios": {r: scenario_entry(scenarios[r]) for r in roles},
        "seed": seeds[roles[0]],
        "seeds": seeds,
        **plan.describe(),
        "started_utc": _now(),
        "status": "running",
        "git": _git_commit(),
        "code_sha256": _code_hash(),
        "packages": _versions(),
        **(extra or {}),
    }


def run_experiment(
    scenarios: dict[str, Scenario],
    plan: Plan | None = None,
    *,
    seeds: dict[str, int] | None = None,
    executor: Executor | None = None,
    folder: Path | None = None,
    resume: bool = False,
    progress: Progress | None = None,
    manifest_extra: dict | None = None,
    allow_large: bool = False,
    before_complete: Callable[[ResultSet], None] | None = None,
) -> ResultSet:
    """Run every role's scenario for the planned replications; write a results folder if given one.

    `seeds` defaults to each scenario's run.seed; give a comparator another seed to run it on
    independent streams (no common random numbers). A run larger than sim.budget allows is
    refused (BudgetError) before anything is written, unless `allow_large`. The folder is locked
    while the run writes it; `before_complete(resultset)` writes what else belongs in it (a
    sweep's tables) before it is marked complete.
    """
    first = scenarios.get("scenario") or next(iter(scenarios.values()))
    plan = plan or Plan(replications=first.run.replications)
    if plan.replications is None and plan.precision is None:
        plan = Plan(replications=first.run.replications, shard=plan.shard)
    budget.check(list(scenarios.values()), planned_replications(plan), allow_large=allow_large)
    seeds = seeds or {role: s.run.seed for role, s in scenarios.items()}
    roles = [r for r in ROLES if r in scenarios] + [r for r in scenarios if r not in ROLES]
    manifest = _manifest(scenarios, roles, seeds, plan, manifest_extra)
    store = Store(folder) if folder is not None else None
    if store and resume and store.is_complete() and store.same_run(manifest):
        resultset = load(folder)
        if store.parts.exists():  # a kill between COMPLETE and removing the parts left them behind
            with locked(folder, (manifest_extra or {}).get("command")):
                shutil.rmtree(store.parts, ignore_errors=True)
        return resultset
    with locked(folder, (manifest_extra or {}).get("command")) if store else nullcontext():
        return _run_locked(scenarios, plan, seeds, roles, manifest, store, executor, resume, progress,
                           before_complete)


def planned_replications(plan: Plan) -> int:
    """The replications of each role this process may run: all of its shard, or the precision rule's cap."""
    if plan.precision is not None:
        return plan.precision.max_replications
    return len(plan.mine(range(plan.replications)))


def _run_locked(scenarios, plan, seeds, roles, manifest, store, executor, resume, progress, before_complete):
    previous = store.read_manifest() if store and resume else None
    finished = store.start(manifest, resume) if store else set()
    changed_code = bool(finished) and previous is not None and previous.get("code_sha256") != manifest["code_sha256"]
    own_executor = executor is None
    if executor is None:
        first_batch = plan.replications if plan.precision is None else plan.precision.min_replications
        executor = make_executor(tasks=first_batch * len(roles))
    manifest["executor"] = {"backend": executor.name, "workers": executor.workers}
    runs = _Replications(scenarios, roles, seeds, executor, store, finished, progress or Progress())
    try:
        with interruptible(executor):
            if plan.precision is None:
                reps, precision_result = plan.mine(range(plan.replications)), None
                runs.ensure(reps)
            else:
                reps, precision_result = _choose_by_precision(plan.precision, runs)
    finally:
        if own_executor:
            executor.close()

    manifest.update({
        "replications": len(reps) if plan.shard is None else plan.replications,
        "replication_numbers": reps,
        "resumed_replications": runs.reused,
        "precision_result": precision_result,
        "finished_utc": _now(),
        "status": "complete",
    })
    folder = store.folder if store else None
    resultset = ResultSet(scenarios=dict(scenarios), manifest=manifest, folder=folder, **runs.tables(reps))
    manifest["warnings"] = [w.as_dict() for w in assess(resultset)]
    if changed_code:
        manifest["warnings"].append({
            "kind": "resume", "subject": "results folder",
            "message": f"{runs.reused} replications were reused from a run of different model code (sim/ changed "
                       "since they ran); run again without --resume for results from one version of the model",
        })
    if store:
        store.finish(resultset, manifest, output_tables(resultset),
                     before_complete=(lambda: before_complete(resultset)) if before_complete else None)
    elif before_complete is not None:
        before_complete(resultset)
    return resultset


def output_tables(resultset: ResultSet) -> dict[str, pd.DataFrame]:
    """The CSV files of a results folder, by file name."""
    out = {"summary.csv": resultset.summary}
    if "comparator" in resultset.scenarios and "scenario" in resultset.scenarios:
        out["comparison.csv"] = resultset.comparison
        out["differences.csv"] = resultset.differences
        out["budget_impact.csv"] = resultset.budget_impact
        out["capacity_freed.csv"] = resultset.capacity_freed
        out["economic_summary.csv"] = resultset.economic_summary
    return out


def merge_shards(folders: list[Path], out: Path) -> ResultSet:
    """Join the results folders of shards of one run into the folder of the whole run."""
    if any(Path(f).resolve() == Path(out).resolve() for f in folders):
        raise StoreError(f"--out {out} is one of the shards; merge into a new folder")
    shards = [load(f) for f in folders]
    identities = [{k: v for k, v in s.manifest["identity"].items() if k != "shard"} for s in shards]
    if any(i != identities[0] for i in identities):
        raise StoreError("the folders hold shards of different runs (scenario, seed or replications differ)")
    total = shards[0].manifest["replications"]
    numbers = sorted(r for s in shards for r in s.manifest["replication_numbers"])
    if numbers != list(range(total)):
        missing = sorted(set(range(total)) - set(numbers))
        twice = sorted({r for r in numbers if numbers.count(r) > 1})
        raise StoreError(f"the shards do not make up replications 0-{total - 1} once each "
                         f"(missing {missing[:10]}, repeated {twice[:10]})")
    check_writable(out)
    first = shards[0]
    roles = first.roles
    order = {role: i for i, role in enumerate(roles)}
    tables = {}
    for name in TABLES:
        joined = pd.concat([getattr(s, name) for s in shards], ignore_index=True)
        key = joined["role"].map(order) * (total + 1) + joined["replication"]
        tables[name] = normalise(name, joined.iloc[key.argsort(kind="stable")])
    manifest = {k: v for k, v in first.manifest.items() if k not in ("shard", "executor")}
    manifest.update({
        "identity": {**identities[0], "shard": None},
        "shard": None,
        "replication_numbers": list(range(total)),
        "merged_from": [str(Path(f)) for f in folders],
        "executor": {"backend": "shards", "workers": len(shards)},
        "started_utc": min(s.manifest["started_utc"] for s in shards),
        "finished_utc": _now(),
        "resumed_replications": 0,
    })
    resultset = ResultSet(scenarios=first.scenarios, manifest=manifest, folder=out, **tables)
    manifest["warnings"] = [w.as_dict() for w in assess(resultset)]
    store = Store(out)
    with locked(out, ["run_scenario.py", "merge", *map(str, folders), "--out", str(out)]):
        store.clear()
        out.mkdir(parents=True, exist_ok=True)
        store.finish(resultset, manifest, output_tables(resultset))
    return resultset


INDEPENDENT_SEED_OFFSET = 1_000_003


def crn_effect(scenario: Scenario, comparator: Scenario, replications: int,
               kpis: tuple[str, ...] = DEFAULT_PRECISION_KPIS, executor: Executor | None = None) -> pd.DataFrame:
    """Variance of the paired difference with common random numbers and with independent streams.

    Independent streams: the comparator runs with its seed moved by a fixed offset, so its
    replication i meets different crises and luck from the scenario's replication i.
    """
    scenarios = {"scenario": scenario, "comparator": comparator}
    plan = Plan(replications=replications)
    seed = scenario.run.seed
    runs = {
        "crn": run_experiment(scenarios, plan, seeds={"scenario": seed, "comparator": seed}, executor=executor),
        "independent": run_experiment(scenarios, plan, executor=executor,
                                      seeds={"scenario": seed, "comparator": seed + INDEPENDENT_SEED_OFFSET}),
    }
    rows = []
    for kpi in kpis:
        label, unit, _ = describe(kpi)
        var = {name: float((rs.kpi_table("scenario")[kpi] - rs.kpi_table("comparator")[kpi]).var(ddof=1))
               for name, rs in runs.items()}
        rows.append({"kpi": kpi, "label": label, "unit": unit, "variance_crn": var["crn"],
                     "variance_independent": var["independent"],
                     "ratio": var["independent"] / var["crn"] if var["crn"] else math.inf})
    return pd.DataFrame(rows)


# --- re-pricing: other unit costs on the same replications ---------------------------------------


def _unit_costs(scenario: Scenario) -> dict[tuple[str, str, str, str], float]:
    """The unit cost of each cost line sim.measure.costs makes from the scenario's `costs:`.

    Keyed by (line name, payer, basis, activity unit).
    """
    return unit_costs.price_table(scenario)


def _repriced_discounted(line: pd.Series, price: float, scenario: Scenario) -> float:
    """A line's discounted cost at a new unit cost: its activity kept its timing, so it scales with the price.

    A line priced at nothing kept no timing: its activity is taken as spread evenly over its year.
    """
    if line["unit_cost_gbp"]:
        return line["discounted_gbp"] * price / line["unit_cost_gbp"]
    rate = discount_rate(scenario)
    middle = (line["year"] - 0.5) * YEAR_DAYS
    return line["activity"] * price * (1 + rate) ** (-middle / YEAR_DAYS)


def _without_prices(scenario: Scenario) -> dict:
    data = scenario.resolved
    for key in ("name", "description", "sources"):
        data.pop(key, None)
    for spec in data["services"].values():
        for cost in spec.get("costs", []):
            cost.pop("gbp", None)
            cost.pop("self_funder_gbp", None)
    return data


def reprice(resultset: ResultSet, scenarios: dict[str, Scenario]) -> ResultSet:
    """The run's replications under other unit costs, without simulating them again.

    `scenarios` gives some roles a scenario that differs from the one they ran only in the
    prices of its `costs:` (gbp, self_funder_gbp): a price changes no one's journey, so each
    stored cost line is its activity times the unit cost sim.measure.costs makes from the new
    price, and the cost KPIs (and measures made from them) follow. Anything else changed must
    be simulated again (ValueError).
    """
    costs = resultset.costs.copy()
    kpis = resultset.kpis
    for role, new in scenarios.items():
        old = resultset.scenarios[role]
        if _without_prices(old) != _without_prices(new):
            raise ValueError(f"{role}: re-pricing changes unit costs only (gbp, self_funder_gbp); "
                             "this scenario differs in more, so simulate it again")
        if len(new.place_names) > 1:
            raise ValueError(f"{role}: re-pricing a system of several places is not supported "
                             "(its costs are stored for the system only); simulate it again")
        before, after = _unit_costs(old), _unit_costs(new)
        rows = costs.index[costs["role"] == role]
        for i in rows:
            line = costs.loc[i]
            key = (line["service"], line["payer"], line["basis"], line["activity_unit"])
            if key not in before:
                continue  # not made from `costs:` (an out-of-area fee): unchanged
            if not math.isclose(before[key], line["unit_cost_gbp"], rel_tol=1e-12):
                raise ValueError(f"{role}: the stored cost line {key[0]} ({key[1]}) was not priced by "
                                 "this role's scenario; re-price from the run's own results")
            costs.loc[i, "unit_cost_gbp"] = after[key]
            costs.loc[i, "cost_gbp"] = line["activity"] * after[key]
            costs.loc[i, "discounted_gbp"] = _repriced_discounted(line, after[key], new)
        kpis = _recosted_kpis(kpis, costs, role, new)
    manifest = {**resultset.manifest, "repriced_roles": sorted(scenarios)}
    return ResultSet(scenarios={**resultset.scenarios, **scenarios}, kpis=kpis, daily=resultset.daily,
                     flows=resultset.flows, costs=normalise("costs", costs), stays=resultset.stays,
                     daily_places=resultset.daily_places, manifest=manifest)


def _recosted_kpis(kpis: pd.DataFrame, costs: pd.DataFrame, role: str, scenario: Scenario) -> pd.DataFrame:
    """One role's cost KPIs from its (re-priced) cost lines, and the scenario's measures again."""
    kpis = kpis.copy()
    fields = list(CostLine.__dataclass_fields__)
    for replication, rows in kpis[kpis["role"] == role].groupby("replication", sort=True):
        k = dict(zip(rows["kpi"], rows["value"]))
        lines = costs[(costs["role"] == role) & (costs["replication"] == replication)]
        k.update(_cost_kpis([CostLine(**line) for line in lines[fields].to_dict("records")]))
        apply_measures(scenario, k)
        kpis.loc[rows.index, "value"] = [float(k[name]) for name in rows["kpi"]]
    return kpis
