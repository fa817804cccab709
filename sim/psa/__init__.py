"""Probabilistic sensitivity analysis: parameter sets drawn from a scenario's `uncertainty:`, each run
against its comparator on common random numbers, summarised with intervals that combine parameter and
simulation uncertainty, and global sensitivity (Morris, then Sobol) on an emulator of the runs.

    draws      parameter sets (Latin hypercube or Sobol points; calibrated sets resampled by weight)
    run        the sets as roles of one experiment, through sim.experiment's runner; the results folder
    summary    psa.csv, psa_summary.csv, the acceptability curve
    emulator   a Gaussian process of each headline over the inputs, with leave-one-out validation
    gsa        Morris screening and Sobol indices (SALib)

docs/psa.md says how to run it, what it reports and its limits.
"""
