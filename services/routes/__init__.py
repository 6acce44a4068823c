"""HTTP routes, one module per resource: health, tools, episodes."""
