"""One-at-a-time sensitivity (a tornado) of Connect's net saving to the inputs we are least sure of.

    python -m sim.studies.connect.sensitivity [--replications 10] [--workers 2] [--output docs/sensitivity-tornado.html]

Each input is moved to the low and then the high end of its range, in the
baseline and in Connect alike, and the saving to the NHS and councils
(committed basis, £m a year) is recomputed on the same replications. Ranges
come from the domain brief (section 5) where it gives one, and are marked as
assumptions where it does not.

Each end's saving has a 95% interval over the paired replications (whiskers
on the bars). The main sensitivity figure is the PSA's Sobol indices
(docs/psa.md), which vary every input at once over its distribution.

Unit costs change no one's journey, so they are re-priced from the base runs
(sim.experiment.reprice) rather than simulated again. Long-term care durations are re-priced too: a
placement's committed cost is its duration times its price, care homes and
home care never run out of places in these scenarios, and every duration
scales with the distribution's scale, so scaling the duration by k is exactly
scaling the price by k (for the total; with savings that run down, a longer
stay also moves more of it from self-funders to councils, which re-pricing
leaves out: the spend-down input, simulated, shows that effect).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from sim.executors import make_executor
from sim.experiment import Plan, reprice, run_experiment
from sim.intervals import confidence_interval
from sim.results import ResultSet
from sim.scenario import Scenario, ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[3]
Changes = Callable[[Scenario, float], dict[str, Any]]
DURATION_PER = ("day", "week", "hour")  # prices of committed time: a longer placement commits more of them


@dataclass(frozen=True)
class Input:
    label: str
    base: str
    low: float               # the value (or multiplier) at each end of the range
    high: float
    shown: str               # the range as shown to readers
    source: str
    changes: Changes         # (scenario, value) -> dotted changes
    reprice: bool            # True: re-priced from the base runs; False: simulated again


def _own_cost(s: Scenario, service: str) -> int:
    """The index of the service's own cost line (the one not named otherwise, such as ED attendances)."""
    return next(i for i, cost in enumerate(s.services[service].costs) if (cost.name or service) == service)


def _price(service: str) -> Changes:
    return lambda s, value: {f"services.{service}.costs.{_own_cost(s, service)}.gbp": value}


def _price_scaled(*services: str) -> Changes:
    def changes(s: Scenario, k: float) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for service in services:
            for i, cost in enumerate(s.services[service].costs):
                if cost.per not in DURATION_PER:
                    continue
                out[f"services.{service}.costs.{i}.gbp"] = cost.gbp * k
                if cost.self_funder_gbp is not None:
                    out[f"services.{service}.costs.{i}.self_funder_gbp"] = cost.self_funder_gbp * k
        return out
    return changes


def _care_home_fees(s: Scenario, k: float) -> dict[str, Any]:
    # Council rates only: what councils pay, not what self-funders are charged.
    out = {}
    for service in ("residential_care", "nursing_care"):
        i = _own_cost(s, service)
        out[f"services.{service}.costs.{i}.gbp"] = s.services[service].costs[i].gbp * k
    return out


def _stay(service: str) -> Changes:
    def changes(s: Scenario, k: float) -> dict[str, Any]:
        stay = s.services[service].los_days.scaled(k)
        return {f"services.{service}.los_days": stay.model_dump(mode="json", by_alias=True, exclude_none=True)}
    return changes


def _diverted_package(s: Scenario, hours: float) -> dict[str, Any]:
    # The package of someone a better assessment keeps out of a care home: its mean, with the same spread.
    spec = s.services["home_care"].hours_per_week_after["care_home_decision"]
    return {"services.home_care.hours_per_week_after.care_home_decision":
            spec.scaled(hours / spec.mean()).model_dump(mode="json", by_alias=True, exclude_none=True)}


def _spend_down(s: Scenario, k: float) -> dict[str, Any]:
    # Savings that last k times as long, in every long-term service that runs them down.
    out: dict[str, Any] = {}
    for service, spend in s.funding.spend_down.items():
        for field in ("to_upper_days", "to_lower_days"):
            spec = getattr(spend, field)
            if spec is not None:
                out[f"funding.spend_down.{service}.{field}"] = spec.scaled(k).model_dump(
                    mode="json", by_alias=True, exclude_none=True)
    return out


def _ucr_success(s: Scenario, value: float) -> dict[str, Any]:
    # The share of people UCR is suitable for whom a response keeps at home, in every need group.
    return {f"need_groups.{group}.traits.ucr_manageable": value for group in s.need_groups}


INPUTS = (
    Input("Acute bed day", "£346", 277, 395, "£277 / £395",
          "NHS reference costs 2017/18 (£346); King's Fund 2023 delayed night (£395); low end: assumption -20%",
          _price("acute"), True),
    Input("Community hospital bed day", "£150", 120, 180, "£120 / £180",
          "NAIC 2017/18 (£150); range: assumption ±20%", _price("community_beds"), True),
    Input("UCR day", "£125", 100, 150, "£100 / £150",
          "NHS reference costs 2017/18 home-based intermediate care (£125); range: assumption ±20%",
          _price("urgent_response"), True),
    Input("Reablement episode", "£1,900", 1700, 2100, "£1,700 / £2,100",
          "NAIC 2014; Glendinning et al. 2010; council returns 2023/24", _price("reablement"), True),
    Input("Home care hour (council fee)", "£19", 15.2, 30.31, "£15.20 / £30.31",
          "Homecare Association 2022-24: top of the minimum sustainable price £30.31; low end: assumption -20%",
          _price("home_care"), True),
    Input("Care home fees, council rate (×)", "£908 / £1,225 a week", 0.8, 1278 / 908, "×0.8 / ×1.41",
          "LaingBuisson 2025: self-funder rates £1,278 / £1,594 as the high end; low end: assumption -20%",
          _care_home_fees, True),
    Input("Care home length of stay (×)", "mean 900 / 550 days", 0.75, 1.25, "×0.75 / ×1.25",
          "assumption ±25% (no local source)", _price_scaled("residential_care", "nursing_care"), True),
    Input("Home care package duration (×)", "mean 700 days", 0.75, 1.25, "×0.75 / ×1.25",
          "assumption ±25% (no local source)", _price_scaled("home_care"), True),
    Input("Package for someone kept out of a care home", "24 hours a week", 15, 35, "15 / 35 hours",
          "assumption: below the ~48 hours a week that cost as much as a residential place",
          _diverted_package, False),
    Input("Time until a self-funder's savings run down (×)", "median 3 years", 0.5, 2.0, "×0.5 / ×2",
          "assumption from the means test (£23,250 / £14,250) and care home fees", _spend_down, False),
    Input("UCR success rate", "85%", 0.70, 0.95, "70% / 95%", "assumption",
          _ucr_success, False),
    Input("Acute length of stay until fit (×)", "mean 8 days", 0.85, 1.15, "×0.85 / ×1.15",
          "assumption; Health Foundation 2023: 9.1 days all ages, 12.5 days 85+ including delays",
          _stay("acute"), False),
    Input("Reablement length of stay (×)", "mean 21 days (16.8 in Connect)", 0.8, 1.2, "×0.8 / ×1.2",
          "assumption ±20%; BNSSG pathway 1 means 12-19 days", _stay("reablement"), False),
    Input("Community hospital length of stay (×)", "mean 36 days", 34 / 36, 43 / 36, "×0.94 / ×1.19",
          "BNSSG pathway 2 means 34-43 days", _stay("community_beds"), False),
)
SIDES = ("low", "high")


def run(scenarios: dict[str, Scenario], replications: int, workers: int = 1, folder: Path | None = None,
        resume: bool = False) -> ResultSet:
    """Replications 0..replications-1 of every scenario through the one runner (sim.experiment).

    Replication i of every scenario uses the streams (seed, i): the scenarios meet the same
    people with the same luck (common random numbers), and results never depend on the workers.
    """
    executor = make_executor(workers, tasks=replications * len(scenarios))
    try:
        return run_experiment(scenarios, Plan(replications=replications), executor=executor, folder=folder,
                              resume=resume)
    finally:
        executor.close()


def _system_saving(results: ResultSet, base: str, connect: str, per_year: float) -> tuple[float, float, float]:
    """Mean paired saving to NHS and councils, £m a year, and its 95% interval over the replications.

    A difference, so the symmetric t interval (sim.intervals); paired replication by replication
    (common random numbers), so it is the uncertainty of the change, not of either level.
    """
    cost = lambda role: results.kpi_table(role)[["cost.nhs", "cost.council"]].sum(axis=1)  # noqa: E731
    mean, low, high = confidence_interval((cost(base) - cost(connect)) * per_year * 1e-6)
    return mean, low, high


def _role(i: int, side: str, name: str) -> str:
    return f"input{i}_{side}_{name}"


def tornado(baseline: Scenario, connect: Scenario, replications: int, workers: int = 1,
            transform: Callable[[Scenario], Scenario] = lambda s: s, scale: float = 1.0,
            inputs: tuple[Input, ...] = INPUTS) -> pd.DataFrame:
    """The saving at each end of each input's range, sorted by swing (largest first)."""
    pair = {"baseline": baseline, "connect": connect}
    scenarios = {name: transform(s) for name, s in pair.items()}
    for n, i in enumerate(inputs):
        if not i.reprice:
            for side in SIDES:
                for name, s in pair.items():
                    scenarios[_role(n, side, name)] = transform(s.with_changes(i.changes(s, getattr(i, side))))
    results = run(scenarios, replications, workers)
    per_year = 365.0 / baseline.run.horizon_days / scale
    base, base_low, base_high = _system_saving(results, "baseline", "connect", per_year)
    rows = []
    for n, i in enumerate(inputs):
        saving = {}
        for side in SIDES:
            if i.reprice:
                prices = {name: scenarios[name].with_changes(i.changes(s, getattr(i, side))) for name, s in pair.items()}
                saving[side] = _system_saving(reprice(results, prices), "baseline", "connect", per_year)
            else:
                saving[side] = _system_saving(results, _role(n, side, "baseline"), _role(n, side, "connect"), per_year)
        low_value, high_value = i.shown.split(" / ")
        rows.append({"label": i.label, "base_value": i.base, "low_value": low_value, "high_value": high_value,
                     "source": i.source, "low_saving": saving["low"][0], "high_saving": saving["high"][0],
                     "low_ci_low": saving["low"][1], "low_ci_high": saving["low"][2],
                     "high_ci_low": saving["high"][1], "high_ci_high": saving["high"][2],
                     "swing": abs(saving["high"][0] - saving["low"][0]),
                     # The base saving between the two ends: the bar moves one way over the range.
                     "monotonic": min(saving["low"][0], saving["high"][0]) <= base <= max(saving["low"][0],
                                                                                             saving["high"][0]),
                     "method": "re-priced" if i.reprice else "simulated"})
    result = pd.DataFrame(rows).sort_values("swing", ascending=False, ignore_index=True)
    result.attrs["base_saving"] = base
    result.attrs["base_interval"] = (base_low, base_high)
    return result


def write_figure(result: pd.DataFrame, path: Path) -> None:
    """The tornado as a self-contained plotly page (plotly.js from its CDN), written atomically."""
    import plotly.graph_objects as go

    base = result.attrs["base_saving"]
    order = result.iloc[::-1]
    figure = go.Figure()
    for side, colour in (("low", "#4575b4"), ("high", "#d73027")):
        figure.add_bar(y=order.label, x=order[f"{side}_saving"] - base, base=base, orientation="h",
                       name=f"input at its {side} end", marker_color=colour,
                       customdata=order[f"{side}_value"],
                       error_x={"type": "data", "symmetric": False,
                                "array": order[f"{side}_ci_high"] - order[f"{side}_saving"],
                                "arrayminus": order[f"{side}_saving"] - order[f"{side}_ci_low"]},
                       hovertemplate="%{y}: %{customdata} gives £%{x:,.1f}m<extra></extra>")
    figure.update_layout(
        title=f"Connect: saving to NHS and councils, £m a year (base £{base:,.1f}m, 95% CI "
              f"£{result.attrs['base_interval'][0]:,.1f}m to £{result.attrs['base_interval'][1]:,.1f}m), "
              "one input at a time; whiskers: 95% CI over paired replications",
        barmode="overlay", xaxis_title="net saving, £m a year (committed basis)", height=120 + 40 * len(result),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        figure.write_html(tmp, include_plotlyjs="cdn", full_html=True)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the figure is for everyone to read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sim.studies.connect.sensitivity", description=__doc__.split("\n\n")[0])
    # Ten paired replications: the swing of the simulated inputs must stand clear of the noise (whiskers).
    p.add_argument("--replications", type=int, default=10)
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--baseline", type=Path, default=ROOT / "scenarios" / "baseline.yaml")
    p.add_argument("--connect", type=Path, default=ROOT / "scenarios" / "connect.yaml")
    p.add_argument("--output", type=Path, default=ROOT / "docs" / "sensitivity-tornado.html")
    args = p.parse_args(argv)
    if args.replications < 1 or args.workers < 1:
        p.error("--replications and --workers must be at least 1")
    try:
        baseline, connect = load_scenario(args.baseline), load_scenario(args.connect)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return 2
    result = tornado(baseline, connect, args.replications, args.workers)
    with pd.option_context("display.width", 200, "display.max_colwidth", 40):
        print(f"base saving: £{result.attrs['base_saving']:,.1f}m a year")
        print(result.drop(columns=["source"]).to_string(index=False, float_format=lambda x: f"{x:,.1f}"))
    write_figure(result, args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
