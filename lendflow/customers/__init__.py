"""Customers: personal data encrypted at rest, found by keyed hash, masked by role."""
