"""Documents rendered from Jinja templates."""
