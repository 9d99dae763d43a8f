"""Credit: automated review (scorecards, decision tables, pricing) and the manual desk."""
