"""Every function and trigger the migrations install, in one file a reader can
open: db/schema/functions.sql. The trigger bodies that keep the summaries are
built across several revisions (0004-0006 write them, 0009 pins their
search_path, later ones may replace them); this file is what a database
migrated to head holds, as PostgreSQL prints it back.

A migration that adds or changes a function or trigger fails this test until
the file is written again: `BACKOFFICE_WRITE_SCHEMA_SNAPSHOT=1 make test
PYTEST_ARGS=tests/db/test_schema_snapshot.py`, and the diff is reviewed with
the migration."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Connection, text

SNAPSHOT = Path(__file__).resolve().parents[2] / "db" / "schema" / "functions.sql"

FUNCTIONS_SQL = """
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS arguments, pg_get_functiondef(p.oid) AS definition
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'public'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')  -- not an extension's
ORDER BY p.proname, arguments
"""

TRIGGERS_SQL = """
SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) AS definition
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND NOT t.tgisinternal
ORDER BY c.relname, t.tgname
"""

HEADER = """\
-- Every function and trigger of the schema at the newest migration, as
-- PostgreSQL prints them back (pg_get_functiondef, pg_get_triggerdef).
-- Generated: tests/db/test_schema_snapshot.py checks it against a migrated
-- database and says how to write it again. Read it; change the migrations.
"""


def schema_snapshot(conn: Connection) -> str:
    parts = [HEADER]
    for row in conn.execute(text(FUNCTIONS_SQL)):
        parts.append(f"\n-- function {row.proname}({row.arguments})\n{row.definition.rstrip()};\n")
    parts.append("\n-- triggers\n")
    for row in conn.execute(text(TRIGGERS_SQL)):
        parts.append(f"{row.definition};\n")
    return "".join(parts)


def test_the_schema_snapshot_is_what_the_migrations_install(conn: Connection) -> None:
    installed = schema_snapshot(conn)
    if os.environ.get("BACKOFFICE_WRITE_SCHEMA_SNAPSHOT"):
        SNAPSHOT.write_text(installed, encoding="utf-8")
    assert "FUNCTION public.ledger_summaries_refresh" in installed or "ledger_summaries_refresh" in installed
    assert SNAPSHOT.read_text(encoding="utf-8") == installed, (
        "db/schema/functions.sql differs from the migrated schema: write it again"
        " (BACKOFFICE_WRITE_SCHEMA_SNAPSHOT=1) and review the diff with the migration"
    )
