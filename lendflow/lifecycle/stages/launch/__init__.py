"""Stage 5, launch: channels, campaigns and customer education."""
