"""The record format: one row per person per service episode, and an optional daily census.

Aligned with the national discharge data (NHS England's discharge ready date
and pathways 0-3) so an analyst can export it from their own systems;
docs/records.md explains every column with an example. The columns here are
the single statement of the format: the reader checks against them, the
synthesiser writes them, and the documentation lists them.
"""

from __future__ import annotations

from dataclasses import dataclass

ENDS = ("home", "died", "left")  # where people go that is not a service (as in scenarios)


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    meaning: str
    unit: str


EPISODE_COLUMNS = (
    Column("person_id", True, "pseudonymous id of the person; the same in every row of one person", "text"),
    Column("service", True, "the service of this episode (a service of the library the fit uses)", "text"),
    Column("arrived", True, "when the episode started: admitted, taken on the caseload, team assigned",
           "date and time (ISO 8601, e.g. 2024-04-01 13:45; a date alone means midday)"),
    Column("ready", True, "when the person was ready to leave: the discharge ready date (no criteria to "
           "reside); blank if not yet ready when the records were taken", "date and time, or date"),
    Column("left", True, "when the person left the service; blank if still there when the records were taken",
           "date and time, or date"),
    Column("to", True, "where they went: the next service, or home, died or left (moved away, other care); "
                       "blank if they have not left", "text"),
    Column("pathway", False, "discharge pathway of this discharge: 0 home with no new support, 1 home with "
                             "support, 2 a short-term bed, 3 a care home; blank if not a discharge on a pathway",
           "0-3"),
    Column("came_from", False, "the service the person came from, or home for a new crisis (blank: worked out "
                               "from the person's earlier rows)", "text"),
    Column("need_group", False, "the person's need group (for example a frailty band); blank if not known", "text"),
    Column("place", False, "the person's place (locality); blank if not known", "text"),
)

CENSUS_COLUMNS = (
    Column("service", True, "the service counted", "text"),
    Column("date", True, "the day of the count (taken at the start of the day)", "date"),
    Column("occupied", True, "people holding a place (bed, caseload slot, placement)", "people"),
    Column("waiting", True, "people waiting for a place", "people"),
    Column("capacity", False, "places available that day (visit-hours a day for a visits service); blank if "
                              "not known", "places"),
)

DATE_COLUMNS = ("arrived", "ready", "left")
# Fewer finished stays than this and a distribution's shape cannot be told apart from noise.
MIN_STAYS = 30


def names(columns: tuple[Column, ...], required_only: bool = False) -> list[str]:
    return [c.name for c in columns if c.required or not required_only]
