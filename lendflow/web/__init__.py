"""The HTTP API: FastAPI over the same use cases the CLI calls (only this package imports
FastAPI or Starlette)."""
