"""Reproducible speed and memory benchmarks; `make bench` runs them all."""
