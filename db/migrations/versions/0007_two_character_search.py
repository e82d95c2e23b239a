"""Two-character searches through an index.

pg_trgm extracts no trigram from a two-character LIKE pattern, so '%an%'
falls back to reading every user (2-4 s at 1,000,000 users). search_bigrams()
lists every two-character piece of a text; a GIN index over it answers
`search_bigrams(x) @> ARRAY['an']` from the index. Queries keep their LIKE
beside it (core/listing.contains_match), so the bigrams only need to be a
superset of the true matches.

The pieces come from two regular-expression splits, at even and at odd
offsets, because built-in functions are several times faster here than a
loop over generate_series (5 us per user instead of 30). The split marks
pieces with the unit separator, so that character is dropped first (which can
only add pieces, never lose one), and a search term containing it falls back
to LIKE alone.

The expressions must stay identical to the ones core/listing.py and
core/users.py build, or PostgreSQL will not use the indexes.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

FUNCTION_SQL = r"""
CREATE OR REPLACE FUNCTION search_bigrams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN string_to_array(regexp_replace(replace(value, E'\x1f', ''), '(..)', E'\\1\x1f', 'g'), E'\x1f')
    || string_to_array(regexp_replace(substr(replace(value, E'\x1f', ''), 2), '(..)', E'\\1\x1f', 'g'), E'\x1f')
"""

USER_SEARCH_TEXT = "email || ' ' || lower(COALESCE(first_name, '') || ' ' || COALESCE(last_name, ''))"

SEARCHED_TEXTS = {
    "tenants": "lower(name)",
    "users": USER_SEARCH_TEXT,
}
INDEXES = {
    "ix_tenants_name_bigrams": "tenants USING gin (search_bigrams(lower(name)))",
    "ix_users_search_bigrams": f"users USING gin (search_bigrams({USER_SEARCH_TEXT})) WHERE deleted_at IS NULL",
}
# Statistics on the bigrams themselves: without them the planner guesses 0.5%
# of rows for every bigram and reads 'an' (a third of all users) by index.
STATISTICS = {f"st_{table}_search_bigrams": table for table in SEARCHED_TEXTS}


def upgrade() -> None:
    op.execute(FUNCTION_SQL)
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")
    for name, table in STATISTICS.items():
        op.execute(f"CREATE STATISTICS IF NOT EXISTS {name} ON (search_bigrams({SEARCHED_TEXTS[table]})) FROM {table}")
        op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    for name in STATISTICS:
        op.execute(f"DROP STATISTICS IF EXISTS {name}")
    for name in reversed(INDEXES):
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("DROP FUNCTION IF EXISTS search_bigrams(text)")
