"""Draft plans of a community's grids: draft, compare with the current plan, apply, and the
history of grids (lineage, and which grid held a place on a date).

- :mod:`~gridmap.plans.drafts` — create a draft (from features or a file), list, discard;
- :mod:`~gridmap.plans.compare` — what a draft changes: per-grid totals, buildings and
  households moving between grids, the validator's findings;
- :mod:`~gridmap.plans.apply` — apply a draft in one transaction, refusing a stale one;
- :mod:`~gridmap.plans.history` — a grid's ancestry and descendants; the grid at a date.
"""
