"""What the command line shows after a PSA: the headlines over the parameter sets, and what drives them."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sim.economics.perspectives import SHORT
from sim.psa.run import PsaResult
from sim.psa.summary import MAIN, NET, PRIVATE_KIND, money_measure

if TYPE_CHECKING:
    from rich.console import Console


def _number(value: float, unit: str) -> str:
    if math.isnan(value):
        return "-"
    if unit == "GBP":
        return f"£{value / 1e6:,.2f}m"
    return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"


def _share(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.0%}"


def print_psa(console: Console, result: PsaResult) -> None:
    from rich.table import Table

    n, r = len(result.draws), result.replications
    console.print(f"PSA: {n} parameter sets x {r} replication{'s' if r > 1 else ''} each, scenario and comparator on "
                  f"common random numbers within each set. Positive = better for the scenario.")
    table = Table(title="Headlines over the parameter sets (95% interval: parameter and simulation uncertainty)")
    for column in ("measure", "unit", "mean", "95% interval", "probability of a gain / saving", "simulation share"):
        table.add_column(column)
    heads = result.summary[result.summary["kind"].isin(["outcome", NET, PRIVATE_KIND])]
    for row in heads.itertuples():
        table.add_row(row.measure, row.unit, _number(row.mean, row.unit),
                      f"{_number(row.interval_low, row.unit)} to {_number(row.interval_high, row.unit)}",
                      _share(row.probability_positive), _share(row.simulation_share))
    console.print(table)
    if not result.ceac.empty:
        first = result.ceac[result.ceac["perspective"] == SHORT[MAIN]]
        if len(first):
            points = ", ".join(f"£{w:,.0f}: {p:.0%}" for w, p in zip(first["wtp_gbp_per_unit"],
                                                                    first["probability_cost_effective"]))
            console.print(f"Acceptability for {SHORT[MAIN]} (NICE reference case), per unit of "
                          f"'{first['effect'].iloc[0]}' gained: {points}")
    emulators = result.sensitivity.get("emulator")
    if emulators is not None and len(emulators):
        worst = emulators.sort_values("q2").iloc[0]
        console.print(f"Emulators (leave-one-out): Q2 from {worst.q2:.2f} ({worst.measure}) to "
                      f"{emulators['q2'].max():.2f}; {int((~emulators['adequate']).sum())} below the bar for "
                      "sensitivity indices (sensitivity/emulator.csv).")
        sobol = result.sensitivity["sobol"]
        total = sobol[sobol["measure"] == money_measure(MAIN)]
        if len(total):
            drivers = ", ".join(f"{row.input} (ST {row.ST:.2f})" for row in total.sort_values("ST", ascending=False)
                                .head(4).itertuples() if not math.isnan(row.ST))
            console.print(f"What drives the net saving to {SHORT[MAIN]} (Sobol total index): {drivers}")
