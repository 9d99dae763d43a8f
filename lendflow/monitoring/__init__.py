"""Monitoring a live product: portfolio KPIs and customer service tickets."""
