"""Prefect flows and tasks: orchestration only; use cases decide."""
