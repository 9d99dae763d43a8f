"""What every use case runs in: the workspace and its ports (gateway, decider, contracts)."""
