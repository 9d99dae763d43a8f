"""Accounting: the finance team's view of the journal (trial balance, provisions, the
general-ledger export, the month-end report)."""
