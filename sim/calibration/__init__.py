"""Calibration by a method: approximate Bayesian computation (ABC-SMC, pyabc) of a scenario's uncertain
parameters against stated targets, and held-out validation of the resulting parameter sets.

- `targets`: the targets file (each target's value, tolerance, source and role: calibration or validation);
- `priors`: the priors file (each uncertain parameter's field paths, prior and source) and parameter sets
  as scenario changes;
- `simulate`: one parameter set through the project's runner, measured as the targets measure;
- `fit`: ABC-SMC from the priors to weighted parameter sets, reading calibration targets only;
- `holdout`: the fitted sets run against the validation targets, which the fit never saw;
- `cli`: `run_scenario.py calibrate`.
"""
