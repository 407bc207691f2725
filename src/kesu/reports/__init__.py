"""Reports: KPIs, statistics for the dashboard, exports (see docs/architecture.md)."""
