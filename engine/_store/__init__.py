"""The durable store: SQL tables, the one writer, migrations."""
