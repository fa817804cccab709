"""Routes as data: at each decision point, where people go next and with what probability.

A route is one of:

    P1: {to: {reablement: 0.6, home_care: 0.4}}             # one table for everyone
    discharge_pathway:
      by_group: {mild: {P0: 0.92, P1: 0.08}, severe: {...}}  # a table per need group
    crisis:
      by_trait: ucr_suitable                                # a table for people with the trait,
      if_true: {urgent_response: 0.365, acute: 0.635}       # and one for the others
      if_false: {urgent_response: 0.01, acute: 0.99}
    reablement_outcome:
      by_place: {basildon: {to: {...}}, other: {...}}       # a route per place (any of the above)

A table's destinations are services, other routes, or the ends `home`,
`died` and `left`. `scale: {urgent_response: 1.7}` multiplies one
destination's probability in every table of the route (capped at 1), the
others shrinking in proportion: the lever for "what if referrals rise 70%".
`hours_multiplier` sizes the hours of the long-term package someone takes on
after this decision (a smaller package after reablement).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from sim.scenario.base import MAX_MULTIPLIER, NAME, Strict, sum_problem

ENDS = ("home", "died", "left")
_ROUTE_KEYS = {"to", "by_group", "by_trait", "if_true", "if_false", "by_place", "scale", "label", "hours_multiplier"}
Table = dict[str, float]


def _lift(value: Any) -> Any:
    if isinstance(value, dict) and value and not set(value) & _ROUTE_KEYS:
        return {"to": value}
    return value


def _table_problem(table: Table) -> str | None:
    if not table:
        return "names no destination"
    for name, p in table.items():
        if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0 <= p <= 1:
            return f"{name}: a probability must be a number from 0 to 1 (got {p!r})"
    return sum_problem(table)


class Route(Strict):
    to: Table | None = Field(None, description="destination -> probability, for everyone")
    by_group: dict[str, "Route"] | None = Field(None, description="need group -> table")
    by_trait: str | None = Field(None, pattern=NAME, description="a trait: if_true for people with it, if_false for others")
    if_true: "Route | None" = None
    if_false: "Route | None" = None
    by_place: dict[str, "Route"] | None = Field(None, description="place -> route")
    scale: dict[str, float] = Field(default_factory=dict, description="destination -> multiplier of its probability")
    label: str | None = Field(None, max_length=80)
    hours_multiplier: float = Field(1.0, gt=0, le=MAX_MULTIPLIER)

    # A plain table where a route is expected means {to: table}.
    @field_validator("by_group", "by_place", mode="before")
    @classmethod
    def _lift_each(cls, value: Any) -> Any:
        return {k: _lift(v) for k, v in value.items()} if isinstance(value, dict) else value

    @field_validator("if_true", "if_false", mode="before")
    @classmethod
    def _lift_one(cls, value: Any) -> Any:
        return _lift(value)

    @model_validator(mode="after")
    def _one_form(self):
        forms = [f for f in ("to", "by_group", "by_trait", "by_place") if getattr(self, f) is not None]
        if len(forms) != 1:
            raise ValueError(f"give exactly one of to, by_group, by_trait or by_place (got {', '.join(forms) or 'none'})")
        if (self.by_trait is None) != (self.if_true is None and self.if_false is None):
            raise ValueError("by_trait goes with if_true and if_false")
        if self.by_trait is not None and (self.if_true is None or self.if_false is None):
            raise ValueError("by_trait needs both if_true and if_false")
        return self

    @field_validator("to")
    @classmethod
    def _a_table(cls, value: Table | None) -> Table | None:
        problem = _table_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("scale")
    @classmethod
    def _factors(cls, value: dict[str, float]) -> dict[str, float]:
        for dest, factor in value.items():
            if not 0 <= factor <= MAX_MULTIPLIER:
                raise ValueError(f"{dest}: a multiplier from 0 to {MAX_MULTIPLIER:g} (got {factor:g})")
        return value

    # --- reading it --------------------------------------------------------------

    def tables(self) -> list[tuple[tuple[str, ...], Table]]:
        """Every table of the route with where it sits (e.g. ('by_group', 'mild')), scale applied."""
        out: list[tuple[tuple[str, ...], Table]] = []
        if self.to is not None:
            out.append(((), scaled(self.to, self.scale)))
        for key in ("by_group", "by_place"):
            for name, sub in (getattr(self, key) or {}).items():
                for where, table in sub.tables():
                    out.append(((key, name, *where), scaled(table, self.scale)))
        for key in ("if_true", "if_false"):
            sub = getattr(self, key)
            if sub is not None:
                for where, table in sub.tables():
                    out.append(((key, *where), scaled(table, self.scale)))
        return out

    def destinations(self) -> set[str]:
        return {d for _, table in self.tables() for d in table}


Route.model_rebuild()


def scaled(table: Table, scale: dict[str, float]) -> Table:
    """The table with the scaled destinations' probabilities multiplied (capped at 1), the rest in proportion."""
    if not scale or not set(scale) & set(table):
        return dict(table)
    raised = {d: min(1.0, p * scale[d]) for d, p in table.items() if d in scale}
    total_raised = sum(raised.values())
    if total_raised >= 1.0:
        return {d: (raised[d] / total_raised if d in raised else 0.0) for d in table}
    rest = {d: p for d, p in table.items() if d not in scale}
    rest_total = sum(rest.values())
    out = {}
    for d, p in table.items():
        if d in raised:
            out[d] = raised[d]
        else:
            out[d] = (1.0 - total_raised) * (p / rest_total if rest_total else 0.0)
    return out
