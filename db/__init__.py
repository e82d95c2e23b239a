"""Schema, migrations, the embedded PostgreSQL server and demo data."""
