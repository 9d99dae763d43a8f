"""Stage 7, improve: feedback, the internal review and the improvement plan."""
