"""A web app for planners who do not write YAML: `python -m sim.app` (or `streamlit run sim/app/main.py`).

levers.py   the scenario fields a planner can change, with labels, units and ranges
library.py  scenarios to start from (the scenarios/ folder or an upload) and the edited YAML to download
runs.py     runs in a background thread, reused by scenario hash, written to a temporary results folder
main.py     the streamlit page
"""
