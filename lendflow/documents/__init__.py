"""Documents issued to people: brochure, disclosure, a loan's contract, kept with SHA-256."""
