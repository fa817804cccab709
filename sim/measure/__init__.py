"""Measuring a finished replication: costs by payer, KPIs with units, and the invariants it must keep."""
