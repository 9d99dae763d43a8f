"""The product lifecycle: stage runs, gate decisions, product versions in the pipeline."""
