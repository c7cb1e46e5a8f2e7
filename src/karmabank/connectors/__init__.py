"""Live connectors: what came in on a platform since the last sync (`base` says how)."""
