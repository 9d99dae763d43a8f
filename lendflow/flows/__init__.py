"""Prefect flows and tasks: orchestration only; services decide."""
