"""Scenarios: a system written as data, section by section, loaded safely with readable errors.

`schema` is the whole scenario, checked as one graph; its sections are in
`run`, `services`, `routes`, `places` and `study`; `loading` reads files
safely and resolves `extends:`; `errors` and `messages` say what is wrong.
"""

from sim.scenario.base import MAX_FILE_BYTES
from sim.scenario.errors import ScenarioError
from sim.scenario.loading import comparator_path, load_scenario, read_yaml
from sim.scenario.schema import SYSTEM, Scenario, validate

__all__ = ["MAX_FILE_BYTES", "SYSTEM", "Scenario", "ScenarioError", "comparator_path", "load_scenario", "read_yaml", "validate"]
