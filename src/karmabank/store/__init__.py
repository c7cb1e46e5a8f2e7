"""The store: tables, engine and sessions, migrations, bulk writes."""
