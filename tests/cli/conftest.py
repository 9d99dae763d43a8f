"""CLI tests use the `lendflow` runner fixture from tests/conftest.py."""
