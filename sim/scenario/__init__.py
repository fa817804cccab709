"""Scenarios: the YAML schema (`schema`), safe loading and `extends:` (`loading`), readable errors (`errors`, `messages`)."""

from sim.scenario.errors import ScenarioError
from sim.scenario.loading import comparator_path, load_scenario, read_yaml
from sim.scenario.schema import *  # noqa: F403  (the schema's classes, used across the package)
from sim.scenario.schema import MAX_FILE_BYTES, Scenario, validate

__all__ = ["MAX_FILE_BYTES", "Scenario", "ScenarioError", "comparator_path", "load_scenario", "read_yaml", "validate"]
