"""lendflow: a workflow engine for microloan products."""

__version__ = "0.1.0"
