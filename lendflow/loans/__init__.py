"""Loans: applications, disbursement, repayments, promotions, customers, audit and views."""
