"""Close of business: the nightly, set-based sweep of the book on one business date."""
