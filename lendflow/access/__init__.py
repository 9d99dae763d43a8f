"""Who may do what: the lender's roles and the permissions each use case checks."""
