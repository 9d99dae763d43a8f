"""State machines built once from config/machines/*.yaml."""
