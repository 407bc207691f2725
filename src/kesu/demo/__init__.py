"""Demo data for `kesu demo` and `kesu serve --demo`: plans.py (who complains and the steps
of each complaint's life) and replay.py (the plans replayed through registration and
transitions in simulated time). It drives every slice, so it sits above them all; no slice
imports it."""
