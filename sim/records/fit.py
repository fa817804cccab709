"""Fitting a scenario from records: demand, stays, delays, routes, capacities and the state it starts from.

What each part of the scenario is made of (docs/records.md explains it for analysts):

- demand: new crises are episodes people start from home (`came_from` home,
  or a person's first row); their yearly rate, and day-of-week and month
  profiles, each day's count over the days of that kind in the records;
- need groups: the groups' shares of new crises, and each group's length of
  stay multiplier (the geometric mean of its stays over its services');
- lengths of stay per service (sim/records/families.py), stays still under
  way counted as censored; response teams: travel time and time with people
  they keep at home; long-term care: the whole placement;
- delays: the time from ready to left. Destinations where most people leave
  the day they are ready need no discharge process (`skip_for`); for the
  others the process is fitted from the delays of people whose next service
  had nobody waiting that day (in the census), so the model's own queues are
  not counted twice;
- routes: at each decision point (where people go after a service, and after
  a discharge pathway) the share of each destination, with its count; a
  table per need group where the groups differ (chi-squared p < 0.01);
- capacities from the census's last day, or left unlimited and flagged;
- the initial state from the census's last day.

Every fitted value has a line in `sources:` (file, rows, dates, method) and
an entry in the uncertainty file (estimate, 95% interval and a distribution
to sample it from in a probabilistic sensitivity analysis).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.records.families import Z95, StayFit, fit_stays
from sim.records.format import ENDS, MIN_STAYS
from sim.records.read import Records

ENTRY_ROUTE = "arrive"
DEFAULT_FUNDING = {"self_funder_share": 0.35, "partial_share": 0.10, "partial_contribution": 0.5}
GROUP_DIFFERS_P = 0.01
MIN_GROUP_ROWS = 20
MINUTE = 1 / 1440


@dataclass
class Fitted:
    """A fitted scenario (as data, ready to validate and write) and what it was made from."""

    scenario: dict
    uncertainty: dict[str, dict]
    stays: dict[str, StayFit] = field(default_factory=dict)       # "service: what" -> fit (for the report)
    routes: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)  # route -> group -> dest -> count
    notes: list[str] = field(default_factory=list)


class _Fitter:
    def __init__(self, records: Records, library: dict):
        self.r = records
        self.lib = library.get("services", {})
        e = records.episodes.sort_values(["person_id", "arrived", "row"], kind="stable").reset_index(drop=True)
        # Where a row does not say where the person came from: their previous row's service, unless that
        # episode ended at home (or an end): then this is a new crisis.
        earlier = e.groupby("person_id")[["service", "to"]].shift(1)
        previous = earlier["service"].where(~earlier["to"].isin(ENDS)).fillna("home")
        came = e["came_from"].where(e["came_from"] != "", previous)
        e["came_from"] = came
        groups = e["need_group"].replace("", np.nan)
        if groups.notna().any():
            # a person's group is the one any of their rows gives
            by_person = groups.groupby(e["person_id"]).transform("first")
            e["group"] = by_person.fillna("unknown")
        else:
            e["group"] = "all"
        self.e = e
        self.groups = sorted(e["group"].unique())
        self.resolution = 1.0 if _whole_days(e) else MINUTE
        self.sources: dict[str, str] = {}
        self.uncertainty: dict[str, dict] = {}
        self.out = Fitted({}, self.uncertainty)
        pathway_services = sorted(e.loc[e["pathway"].notna(), "service"].unique())
        self.pathway_services = pathway_services
        self.multipliers: dict[str, float] = {}

    # --- naming what rows come from ---------------------------------------------------------

    def _rows(self, frame: pd.DataFrame) -> str:
        rows = frame["row"]
        span = f"{self.r.date(frame['arrived'].min())} to {self.r.date(frame['arrived'].max())}" if len(frame) else "none"
        return f"{self.r.file}, {len(frame):,} rows ({_row_ranges(rows)}), arrived {span}"

    def pathway_route(self, service: str) -> str:
        return "discharge_pathway" if len(self.pathway_services) == 1 else f"{service}_pathway"

    def pathway_token(self, service: str, n: int) -> str:
        return f"P{n}" if len(self.pathway_services) == 1 else f"{service}_P{n}"

    def _clip(self, values: np.ndarray) -> np.ndarray:
        # a stay that ended the moment it began (or on the same date) is taken as half the records' resolution
        return np.where(values > 0, values, self.resolution / 2)

    # --- demand and people -----------------------------------------------------------------------

    def demand(self) -> dict:
        e, r = self.e, self.r
        crises = e[e["came_from"] == "home"]
        years = r.end / 365.25
        n = len(crises)
        rate = n / years
        self.sources["demand.crises_per_year"] = (
            f"fitted: new crises (episodes started from home) in {self._rows(crises)}; {n:,} in {r.end:.0f} days")
        low, high = stats.chi2.ppf(0.025, 2 * n) / 2 / years, stats.chi2.ppf(0.975, 2 * n + 2) / 2 / years
        self.uncertainty["demand.crises_per_year"] = {
            "estimate": _r(rate), "ci95": [_r(low), _r(high)], "count": n,
            "psa": {"dist": "gamma", "shape": n, "scale": _r(1 / years),
                    "meaning": "crises a year ~ Gamma(shape = the count, scale = 1 / the years the records cover)"}}
        days = pd.date_range(r.epoch, periods=max(1, int(math.ceil(r.end))), freq="D")
        stamps = r.epoch + pd.to_timedelta(crises["arrived"], unit="D")
        weekday = _profile(stamps.dt.day_of_week, pd.Series(days.day_of_week), 7)
        month = _profile(stamps.dt.month - 1, pd.Series(days.month - 1), 12)
        self.sources["demand.weekday_multipliers"] = ("fitted: new crises on each weekday over the number of such days"
                                                      f" in the records ({n:,} crises); Monday..Sunday, mean 1")
        covered = sorted(set(days.month))
        self.sources["demand.monthly_multipliers"] = (
            "fitted: new crises in each month over its days in the records; months with no records: 1"
            + ("" if len(covered) == 12 else f" (records cover {len(covered)} months)"))
        for name, profile in (("weekday_multipliers", weekday), ("monthly_multipliers", month)):
            self.uncertainty[f"demand.{name}"] = {"estimate": profile[0], "ci95": profile[1],
                                                   "method": "Poisson count of each day kind, delta method"}
        entries = crises["service"].value_counts()
        enters = entries.index[0] if len(entries) == 1 else ENTRY_ROUTE
        return {"crises_per_year": _r(rate), "enters": enters, "weekday_multipliers": weekday[0],
                "monthly_multipliers": month[0]}

    def need_groups(self) -> dict:
        e = self.e
        crises = e[e["came_from"] == "home"]
        counts = crises["group"].value_counts().reindex(self.groups, fill_value=0)
        total = counts.sum()
        shares = _shares_summing_to_one({g: c / total for g, c in counts.items()})
        self._group_multipliers()
        out = {g: {"share": shares[g], "los_multiplier": self.multipliers.get(g, 1.0)} for g in self.groups}
        self.sources["need_groups"] = (f"fitted: need groups of {total:,} new crises in {self.r.file}; length-of-stay "
                                       "multipliers: each group's geometric mean stay relative to its services'")
        for g in self.groups:
            c = int(counts[g])
            self.uncertainty[f"need_groups.{g}.share"] = {
                "estimate": shares[g], "ci95": _beta_ci(c, total - c), "count": c,
                "psa": {"dist": "dirichlet", "counts": {k: int(v) for k, v in counts.items()}}}
        return out

    def _group_multipliers(self) -> None:
        if len(self.groups) < 2:
            return
        e = self.e
        kinds = {s: self.lib[s].get("kind") for s in e["service"].unique()}
        use = e["service"].map(lambda s: kinds[s] in ("beds", "caseload", "unlimited", "visits")
                               and self.lib[s].get("group_multiplier", True))
        rows = e[use & e["ready"].notna()]
        if rows.empty:
            return
        logs = np.log(self._clip((rows["ready"] - rows["arrived"]).to_numpy()))
        deviation = logs - pd.Series(logs, index=rows.index).groupby(rows["service"]).transform("mean").to_numpy()
        by_group = pd.Series(deviation, index=rows.index).groupby(rows["group"]).mean()
        self.multipliers = {g: _r(math.exp(v)) for g, v in by_group.items()}

    # --- services ---------------------------------------------------------------------------------

    def services(self) -> dict:
        out = {}
        for service in sorted(self.e["service"].unique()):
            spec = _without_nulls(self.lib[service])
            rows = self.e[self.e["service"] == service]
            kind = spec["kind"]
            where = f"services.{service}"
            if kind == "long_term":
                spec["duration_days"] = self._stay(service, "duration_days", rows, rows["left"] - rows["arrived"],
                                                   self.r.end - rows["arrived"], rows["left"].isna(), False)
            elif kind == "response_team":
                self._response(service, spec, rows)
            else:
                multiplier = rows["group"].map(self.multipliers).fillna(1.0) if spec.get("group_multiplier", True) else 1.0
                spec["los_days"] = self._stay(service, "los_days", rows, (rows["ready"] - rows["arrived"]) / multiplier,
                                              (self.r.end - rows["arrived"]) / multiplier, rows["ready"].isna(), True)
                if kind != "visits":
                    process = self._process(service, rows)
                    if process is None:
                        spec.pop("discharge_process", None)
                    else:
                        spec["discharge_process"] = process
            self._capacity(service, spec, where)
            spec["then"] = f"after_{service}"
            out[service] = spec
        names = set(out)
        for spec in out.values():
            if "give_up_to" in spec and spec["give_up_to"] not in names | set(ENDS):
                spec["give_up_to"] = "home"
            if "handover_to" in spec:
                spec["handover_to"] = [t for t in spec["handover_to"] if t in names]
        return out

    def _stay(self, service, field_name, rows, ended_days, so_far, open_, grouped) -> dict:
        done = ended_days.notna()
        ended = self._clip(ended_days[done].to_numpy())
        censored = so_far[open_].to_numpy()
        fit = fit_stays(ended, censored)
        self.out.stays[f"{service}: {field_name}"] = fit
        key = f"services.{service}.{field_name}"
        self._record_fit(key, fit, rows[done | open_], grouped)
        return fit.spec

    def _record_fit(self, key: str, fit: StayFit, rows: pd.DataFrame, grouped: bool = False, unit: str = "days") -> None:
        gof = f"KS D = {fit.ks_d:.3f}" + (f", p = {fit.ks_p:.2g}" if fit.ks_p is not None else " (against Kaplan-Meier)")
        how = ("empirical: no family fits (" if fit.chosen == "empirical" else f"{fit.chosen} by maximum likelihood, "
               "lowest AIC of " + ", ".join(f"{c.family} {c.aic:,.0f}" for c in sorted(fit.candidates, key=lambda c: c.aic))
               + " (") + gof + ")"
        censored = f", {fit.censored:,} still under way counted as censored" if fit.censored else ""
        grouped_note = "; per need group through the groups' multipliers" if grouped and len(self.groups) > 1 else ""
        self.sources[key] = (f"fitted: {self._rows(rows)}; {fit.n:,} ended{censored}; {how}; mean {fit.mean:.3g} {unit} "
                             f"(95% CI {fit.mean_low:.3g} to {fit.mean_high:.3g}){grouped_note}")
        self.uncertainty[key] = {
            "estimate": fit.spec, "mean": _r(fit.mean), "ci95": [_r(fit.mean_low), _r(fit.mean_high)],
            "count": fit.n, "censored": fit.censored, "family": fit.chosen,
            "psa": {"dist": "normal", "of": "mean", "mean": _r(fit.mean),
                    "sd": _r((fit.mean_high - fit.mean_low) / (2 * Z95)),
                    "meaning": "scale the distribution to a mean drawn from this"}}

    def _response(self, service: str, spec: dict, rows: pd.DataFrame) -> None:
        self.out.notes.append(f"{service}: people who asked and got no team in time are in no record (they appear as "
                              "new crises where they went instead); the fitted model's own give-ups come on top, "
                              "so its responses are fewer by about the share who give up (docs/records.md)")
        ready = rows[rows["ready"].notna()]
        if self.resolution >= 1:
            self.out.notes.append(f"{service}: the records give dates only, so the time to reach people (hours) "
                                  "cannot be measured: travel_hours is the library's")
            self.sources[f"services.{service}.travel_hours"] = "library: the records give dates, not times"
            return self._kept_duration(service, spec, rows)
        travel = self._clip((ready["ready"] - ready["arrived"]).to_numpy()) * 24
        fit = fit_stays(travel)
        self.out.stays[f"{service}: travel_hours"] = fit
        self._record_fit(f"services.{service}.travel_hours", fit, ready, unit="hours")
        spec["travel_hours"] = fit.spec
        self._kept_duration(service, spec, rows)

    def _kept_duration(self, service: str, spec: dict, rows: pd.DataFrame) -> None:
        """Time with the people a response team keeps at home (not those it hands over)."""
        handover = set(spec.get("handover_to", ()))
        kept = rows[rows["left"].notna() & rows["ready"].notna() & ~rows["to"].isin(handover)]
        if len(kept) < MIN_STAYS:
            self.out.notes.append(f"{service}: only {len(kept)} responses kept people at home; duration_days is the "
                                  "library's")
            return
        multiplier = kept["group"].map(self.multipliers).fillna(1.0) if spec.get("group_multiplier", True) else 1.0
        fit = fit_stays(self._clip(((kept["left"] - kept["ready"]) / multiplier).to_numpy()))
        self.out.stays[f"{service}: duration_days"] = fit
        self._record_fit(f"services.{service}.duration_days", fit, kept)
        spec["duration_days"] = fit.spec

    def _process(self, service: str, rows: pd.DataFrame) -> dict | None:
        left = rows[rows["left"].notna()].copy()
        left["delay"] = left["left"] - left["ready"]
        left["token"] = self._tokens(service, left)
        zero = left["delay"] < self.resolution / 2
        skip = sorted(t for t, share in zero.groupby(left["token"]).mean().items() if share >= 0.5)
        rest = left[~left["token"].isin(skip)]
        census = self.r.census
        if census is not None and len(rest):
            waiting = census.groupby(["service", "day"], as_index=False)["waiting"].sum()
            keyed = pd.DataFrame({"service": rest["to"].to_numpy(), "day": np.floor(rest["left"].to_numpy())})
            queue = keyed.merge(waiting, on=["service", "day"], how="left")["waiting"].fillna(0).to_numpy()
            rest = rest[queue == 0]
        delays = rest["delay"][rest["delay"] >= self.resolution / 2].to_numpy()
        key = f"services.{service}.discharge_process"
        if len(delays) < MIN_STAYS:
            self.sources[key] = (f"fitted: no discharge process: {len(delays)} delays from ready to left in "
                                 f"{self.r.file} where nobody was waiting for the next service")
            return None
        fit = fit_stays(delays)
        self.out.stays[f"{service}: discharge_process"] = fit
        self._record_fit(key, fit, rest)
        self.sources[key] += ("; delays from ready to left where the next service had nobody waiting"
                              + (f"; none for {', '.join(skip)} (most leave the day they are ready)" if skip else ""))
        out: dict[str, Any] = {"days": fit.spec}
        if skip:
            out["skip_for"] = skip
        return out

    def _tokens(self, service: str, rows: pd.DataFrame) -> pd.Series:
        """Where each leaver went at the first decision: a discharge pathway, else their destination."""
        pathway = rows["pathway"]
        names = pathway.map(lambda p: self.pathway_token(service, int(p)) if pd.notna(p) else None)
        return names.where(pathway.notna(), rows["to"])

    def _capacity(self, service: str, spec: dict, where: str) -> None:
        census = self.r.census
        kind = spec["kind"]
        rows = census[census["service"] == service] if census is not None else None
        capacity = None
        if rows is not None and len(rows) and rows["capacity"].notna().any():
            last = rows[rows["capacity"].notna()].sort_values("day").iloc[-1]
            capacity = float(last["capacity"])
            date = self.r.date(last["day"])
            self.sources[f"{where}.{'workforce.visit_hours_per_day' if kind == 'visits' else 'capacity'}"] = (
                f"census: {self.r.census_file} row {int(last['row'])}, {date}")
        if kind == "long_term" and capacity is None:
            return  # long-term care is unlimited unless a census says otherwise
        if kind == "visits":
            if capacity is not None:
                spec.setdefault("workforce", {})["visit_hours_per_day"] = capacity
            return
        if capacity is None:
            spec["capacity"] = None
            self.sources[f"{where}.capacity"] = ("unknown: no capacity in the census; left unlimited, so the fitted "
                                                  "model shows no queue here: set it before trusting waits or occupancy")
            self.out.notes.append(f"{service}: capacity unknown (left unlimited)")
        else:
            spec["capacity"] = int(round(capacity)) if kind != "visits" else capacity

    # --- routes -----------------------------------------------------------------------------------

    def routes(self, enters: str) -> dict:
        e = self.e
        out: dict[str, Any] = {}
        crises = e[e["came_from"] == "home"]
        if enters == ENTRY_ROUTE:
            out[ENTRY_ROUTE] = self._route(ENTRY_ROUTE, crises, crises["service"], "the service new crises start in")
        for service in sorted(e["service"].unique()):
            rows = e[(e["service"] == service) & e["left"].notna()]
            name = f"after_{service}"
            if rows.empty:
                then = self.lib[service].get("then", "home")
                out[name] = {"to": {then if then in ENDS else "home": 1.0}}
                self.sources[f"routes.{name}"] = f"no one left {service} in {self.r.file}: the library's end ({then})"
                continue
            tokens = self._tokens(service, rows)
            if service in self.pathway_services:
                route = self.pathway_route(service)
                first = tokens.where(rows["pathway"].isna(), route)
                out[name] = self._route(name, rows, first, f"where people go after {service}")
                on_pathway = rows[rows["pathway"].notna()]
                out[route] = self._route(route, on_pathway, tokens[rows["pathway"].notna()],
                                         f"discharge pathways from {service}")
                for n in sorted(on_pathway["pathway"].unique()):
                    those = on_pathway[on_pathway["pathway"] == n]
                    token = self.pathway_token(service, int(n))
                    out[token] = self._route(token, those, those["to"], f"where pathway {int(n)} leads")
                    out[token]["label"] = f"P{int(n)}"
            else:
                out[name] = self._route(name, rows, tokens, f"where people go after {service}")
        return out

    def _route(self, name: str, rows: pd.DataFrame, dest: pd.Series, what: str) -> dict:
        table = pd.crosstab(rows["group"], dest)
        pooled = table.sum()
        counts = {"all": {d: int(n) for d, n in pooled.items()}}
        by_group = False
        if len(table) > 1 and table.shape[1] > 1 and len(table) == len(self.groups):
            p = stats.chi2_contingency(table.to_numpy())[1] if (table.sum(axis=1) > 0).all() else 1.0
            by_group = p < GROUP_DIFFERS_P
        self.out.routes[name] = counts
        total = int(pooled.sum())
        self.sources[f"routes.{name}"] = (
            f"fitted: {what}: {self._rows(rows)}; counts " + ", ".join(f"{d} {n:,}" for d, n in pooled.items())
            + ("; a table per need group (they differ, chi-squared p < 0.01)" if by_group else ""))
        self.uncertainty[f"routes.{name}"] = {
            "estimate": _table(pooled), "count": total,
            "ci95": {d: _beta_ci(int(n), total - int(n)) for d, n in pooled.items()},
            "psa": {"dist": "dirichlet", "counts": counts["all"]}}
        if not by_group:
            return {"to": _table(pooled)}
        groups = {}
        for g in self.groups:
            row = table.loc[g] if g in table.index else pooled * 0
            use = row if row.sum() >= MIN_GROUP_ROWS else pooled
            groups[g] = {"to": _table(use)}
            counts[g] = {d: int(n) for d, n in row.items()}
            self.uncertainty[f"routes.{name}.by_group.{g}"] = {
                "estimate": _table(use), "count": int(row.sum()), "psa": {"dist": "dirichlet", "counts": counts[g]}}
        return {"by_group": groups}

    # --- places -----------------------------------------------------------------------------------

    def places(self, services: dict) -> tuple[dict, dict]:
        """Places from the records' `place` column: each one's share of new crises; capacity pooled.

        The records do not say how places share a service, so each finite service is pooled: the
        system's capacity serves everyone, as in a fit without places, and KPIs come per place too.
        """
        e = self.e
        crises = e[e["came_from"] == "home"]
        named = crises["place"].replace("", np.nan)
        if named.nunique() < 2 or named.isna().any():
            return {}, {}
        counts = named.value_counts().sort_index()
        shares = _shares_summing_to_one({p: n / counts.sum() for p, n in counts.items()})
        self.sources["places"] = (f"fitted: the places of {int(counts.sum()):,} new crises in {self.r.file}; "
                                  "services pooled across places (the records do not say how places share them)")
        for p, n in counts.items():
            self.uncertainty[f"places.{p}.demand_share"] = {
                "estimate": shares[p], "ci95": _beta_ci(int(n), int(counts.sum() - n)), "count": int(n),
                "psa": {"dist": "dirichlet", "counts": {k: int(v) for k, v in counts.items()}}}
        pooled = {name: {"mode": "pooled"} for name, spec in services.items()
                  if spec["kind"] != "long_term" or spec.get("capacity") is not None}
        return {p: {"demand_share": shares[p]} for p in counts.index}, pooled

    # --- the state it starts from ------------------------------------------------------------------

    def initial_state(self, services: dict) -> dict:
        census = self.r.census
        if census is None:
            return {}
        out = {}
        last_day = census["day"].max()
        for service, rows in census[census["day"] == last_day].groupby("service"):
            if service not in services or services[service]["kind"] == "response_team":
                continue  # a response lasts hours: the model starts teams with nobody under way
            out[service] = {"occupied": int(rows["occupied"].sum()), "waiting": int(rows["waiting"].sum())}
            self.sources[f"initial_state.{service}"] = (f"census: {self.r.census_file}, last day {self.r.date(last_day)} "
                                                        f"(row {int(rows['row'].iloc[0])})")
        return out


def fit_records(records: Records, library: dict, library_name: str, name: str) -> Fitted:
    """The scenario these records describe, as data (validate with sim.scenario.schema.validate)."""
    f = _Fitter(records, library)
    demand = f.demand()
    need_groups = f.need_groups()
    services = f.services()
    routes = f.routes(demand["enters"])
    state = f.initial_state(services)
    # From the census's last day (the state counted at its start), else the day after the records end.
    last_census = records.census["day"].max() if records.census is not None else None
    start = (records.epoch + pd.Timedelta(days=last_census if state else math.ceil(records.end))).date()
    scenario: dict[str, Any] = {
        "name": name,
        "description": (f"Fitted from {records.file} ({records.date(0)} to {records.date(records.end - 1e-9)})"
                        f" with the services of {library_name}; see the sources and the fit report."),
        "run": {"horizon_days": 365, "warmup_days": 0 if state else 365, "replications": 10,
                "start_date": start.isoformat()},
        "demand": demand,
        "need_groups": need_groups,
        "funding": library.get("funding") or dict(DEFAULT_FUNDING),
        "services": services,
        "routes": routes,
    }
    _drop_library_routes(f, services, routes, scenario["funding"])
    places, sharing = f.places(services)
    if places:
        scenario["places"] = places
        scenario["sharing"] = sharing
    if state:
        scenario["initial_state"] = state
    if not library.get("funding"):
        f.sources["funding"] = "assumption: not in the records; about a third of people in care fund themselves (England)"
    f.sources["run.warmup_days"] = ("starts from the census's last day" if state else
                                    "no census: a year of warm-up fills the services before measuring")
    measures = _pathway_measures(f, routes)
    if measures:
        scenario["measures"] = measures
    for service in services:
        if f"services.{service}.costs" not in f.sources and services[service].get("costs"):
            f.sources[f"services.{service}.costs"] = f"library: {library_name}"
    scenario["sources"] = dict(sorted(f.sources.items()))
    f.out.scenario = plain(scenario)
    f.out.uncertainty = plain(f.uncertainty)
    return f.out


def _drop_library_routes(f: _Fitter, services: dict, routes: dict, funding: dict) -> None:
    """What a library service keys by the library's own routes or services (package sizes by the route that sent
    the person, spend-down by service) is kept only where the fitted scenario has that route or service."""
    for service, spec in services.items():
        sizes = spec.get("hours_per_week_after")
        if sizes:
            kept = {route: size for route, size in sizes.items() if route in routes}
            if kept:
                spec["hours_per_week_after"] = kept
            else:
                del spec["hours_per_week_after"]
            if len(kept) < len(sizes):
                f.out.notes.append(f"{service}: package sizes by the library's routes {', '.join(sorted(set(sizes) - set(kept)))} "
                               "left out: those routes are not among the routes fitted from the records")
    spend_down = funding.get("spend_down")
    if spend_down:
        funding["spend_down"] = {s: v for s, v in spend_down.items() if s in services}


def plain(value: Any) -> Any:
    """Numbers as Python's own (for YAML), all the way down."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _pathway_measures(f: _Fitter, routes: dict) -> dict:
    out = {}
    for service in f.pathway_services:
        route = f.pathway_route(service)
        for n in range(4):
            token = f.pathway_token(service, n)
            if token in routes:
                name = f"pathway.P{n}" if len(f.pathway_services) == 1 else f"{service}.pathway.P{n}"
                out[name] = {"label": f"Discharged on pathway {n}" + ("" if len(f.pathway_services) == 1 else f" from {service}"),
                             "sum": [f"route.{route}.{token}"]}
    return out


# --- small pieces -------------------------------------------------------------------------------------


def _r(x: float) -> float:
    return float(f"{x:.5g}")


def _without_nulls(spec: dict) -> dict:
    """A library service without the nulls a resolved scenario spells out (a null capacity means unlimited: kept)."""
    out = {}
    for key, value in spec.items():
        if isinstance(value, dict):
            value = _without_nulls(value)
        elif isinstance(value, list):
            value = [_without_nulls(v) if isinstance(v, dict) else v for v in value]
        if value is not None or key == "capacity":
            out[key] = value
    return out


def _whole_days(e: pd.DataFrame) -> bool:
    """Whether the records give dates only (every time at midday)."""
    times = pd.concat([e["arrived"], e["ready"], e["left"]]).dropna().to_numpy()
    return bool(len(times)) and bool(np.all(np.isclose(times % 1, 0.5)))


def _table(counts: pd.Series) -> dict[str, float]:
    total = counts.sum()
    return _shares_summing_to_one({str(d): n / total for d, n in counts.items() if n > 0})


def _shares_summing_to_one(shares: dict[str, float]) -> dict[str, float]:
    rounded = {k: round(v, 6) for k, v in shares.items()}
    biggest = max(rounded, key=rounded.get)
    rounded[biggest] = round(rounded[biggest] + 1 - sum(rounded.values()), 6)
    return rounded


def _beta_ci(successes: int, failures: int) -> list[float]:
    """95% interval of a share (Jeffreys)."""
    return [_r(stats.beta.ppf(0.025, successes + 0.5, failures + 0.5)),
            _r(stats.beta.ppf(0.975, successes + 0.5, failures + 0.5))]


def _profile(kind: pd.Series, day_kinds: pd.Series, size: int) -> tuple[list[float], list[list[float]]]:
    """Multipliers (mean 1) of each kind of day (weekday, month), and their 95% intervals."""
    counts = kind.value_counts().reindex(range(size), fill_value=0).to_numpy(float)
    days = day_kinds.value_counts().reindex(range(size), fill_value=0).to_numpy(float)
    covered = days > 0
    rate = np.where(covered, counts / np.where(covered, days, 1), np.nan)
    mean = np.nanmean(rate)
    values = np.where(covered, rate / mean, 1.0)
    values = values / values.mean()
    se = np.where(covered & (counts > 0), values / np.sqrt(np.maximum(counts, 1)), 0.0)
    return ([_r(v) for v in values], [[_r(v - Z95 * s), _r(v + Z95 * s)] for v, s in zip(values, se)])


def _row_ranges(rows: pd.Series) -> str:
    """File rows as ranges: 'rows 2-40, 45, 50-61' (shortened past a few ranges)."""
    values = np.sort(rows.to_numpy())
    if not len(values):
        return "no rows"
    breaks = np.flatnonzero(np.diff(values) > 1)
    starts = np.concatenate([[values[0]], values[breaks + 1]])
    ends = np.concatenate([values[breaks], [values[-1]]])
    parts = [f"{a}" if a == b else f"{a}-{b}" for a, b in zip(starts, ends)]
    shown = ", ".join(parts[:4]) + (f", ... ({len(parts) - 4} more ranges)" if len(parts) > 4 else "")
    return ("row " if len(values) == 1 else "rows ") + shown
