"""The seven stages' business steps, charter to improve, each handing its report data on."""
