"""Importers, one module per format, found through one registry (see `registry`)."""
