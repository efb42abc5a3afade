"""queue band counts kept by triggers, so the queue page does not count a million rows

Revision ID: a4c6e8f0b2d1
Revises: 655509c5d2de
Create Date: 2026-12-01 07:00:00

Every insert, delete, and change of a comment's state, risk or report weight appends the
change in each band it enters or leaves to `queue_count_changes` (append only, so concurrent
writers never wait on one hot counter row or deadlock over two). The worker folds those rows
into `queue_counts` now and then (services/queue_counts.fold). A band's count is its total plus
its unfolded changes.

SQLite's batch mode recreates a table to alter it, and the copy has no triggers: a later
migration that alters `comments` in batch mode must create these triggers again (the queue
count tests fail if it does not).
"""
from alembic import op
import sqlalchemy as sa


revision = 'a4c6e8f0b2d1'
down_revision = '655509c5d2de'
branch_labels = None
depends_on = None

BANDS = ('pending', 'held', 'queued', 'unscored', 'reported')


def _band(row):
    """The waiting band a comment is in (pending, held, queued, unscored) or NULL."""
    return (f"CASE WHEN {row}.state = 'pending' THEN 'pending' "
            f"WHEN {row}.state IN ('held', 'queued') AND {row}.risk IS NULL THEN 'unscored' "
            f"WHEN {row}.state IN ('held', 'queued') THEN {row}.state END")


def _reported(row):
    """'reported' while readers' reports weigh on a comment that is visible or waiting."""
    return (f"CASE WHEN {row}.report_weight > 0 "
            f"AND {row}.state IN ('approved', 'held', 'queued') THEN 'reported' END")


def _changes(rows):
    """SELECT band, delta for rows given as (alias, delta) pairs; NULL bands left out."""
    parts = []
    for alias, delta in rows:
        parts.append(f"SELECT {_band(alias)} AS band, {delta} AS delta FROM {{{alias}}}")
        parts.append(f"SELECT {_reported(alias)} AS band, {delta} AS delta FROM {{{alias}}}")
    return " UNION ALL ".join(parts)


def _sqlite_triggers():
    def insert(alias, rows):
        # Row triggers: NEW and OLD are not tables, so select them with no FROM.
        union = _changes(rows).replace(" FROM {NEW}", "").replace(" FROM {OLD}", "")
        return (f"INSERT INTO queue_count_changes (band, delta) "
                f"SELECT band, delta FROM ({union}) WHERE band IS NOT NULL;")

    moved = (f"({_band('OLD')}) IS NOT ({_band('NEW')}) "
             f"OR ({_reported('OLD')}) IS NOT ({_reported('NEW')})")
    return [
        "CREATE TRIGGER comments_count_insert AFTER INSERT ON comments BEGIN "
        + insert("NEW", [("NEW", 1)]) + " END",
        "CREATE TRIGGER comments_count_delete AFTER DELETE ON comments BEGIN "
        + insert("OLD", [("OLD", -1)]) + " END",
        "CREATE TRIGGER comments_count_update AFTER UPDATE OF state, risk, report_weight "
        f"ON comments WHEN {moved} BEGIN "
        + insert("NEW", [("OLD", -1), ("NEW", 1)]) + " END",
    ]


def _postgresql_triggers():
    # Statement triggers with transition tables: one INSERT per statement, summed by band, so
    # the worker's set-based banding of a batch appends a handful of rows, not two per comment.
    def summed(rows):
        union = _changes(rows).format(old_rows="old_rows", new_rows="new_rows")
        return (f"INSERT INTO queue_count_changes (band, delta) "
                f"SELECT band, sum(delta) FROM ({union}) AS moves "
                f"WHERE band IS NOT NULL GROUP BY band HAVING sum(delta) <> 0;")

    function = f"""
CREATE FUNCTION comments_count_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {summed([("new_rows", 1)])}
    ELSIF TG_OP = 'DELETE' THEN
        {summed([("old_rows", -1)])}
    ELSE
        {summed([("old_rows", -1), ("new_rows", 1)])}
    END IF;
    RETURN NULL;
END
$$"""
    trigger = ("CREATE TRIGGER comments_count_{op} AFTER {event} ON comments "
               "REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION comments_count_changes()")
    return [
        function,
        trigger.format(op="insert", event="INSERT", tables="NEW TABLE AS new_rows"),
        trigger.format(op="delete", event="DELETE", tables="OLD TABLE AS old_rows"),
        trigger.format(op="update", event="UPDATE",
                       tables="OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ]


def upgrade():
    op.create_table('queue_counts',
                    sa.Column('band', sa.String(length=16), nullable=False),
                    sa.Column('total', sa.BigInteger(), nullable=False),
                    sa.PrimaryKeyConstraint('band', name=op.f('pk_queue_counts')))
    op.create_table('queue_count_changes',
                    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                              autoincrement=True, nullable=False),
                    sa.Column('band', sa.String(length=16), nullable=False),
                    sa.Column('delta', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_count_changes')))
    dialect = op.get_bind().dialect.name
    statements = _postgresql_triggers() if dialect == 'postgresql' else _sqlite_triggers()
    for statement in statements:
        op.execute(statement)
    # What is already there, counted once. On SQLite each CREATE TRIGGER committed at once,
    # so a comment written since has a change row: start the count's transaction by dropping
    # those, as recount does (PostgreSQL's DDL is in this transaction and locked writers out).
    op.execute("DELETE FROM queue_count_changes")
    counted = _changes([("comments", 1)]).format(comments="comments")
    op.execute(f"INSERT INTO queue_counts (band, total) "
               f"SELECT band, sum(delta) FROM ({counted}) AS present "
               f"WHERE band IS NOT NULL GROUP BY band")
    for band in BANDS:
        op.execute(f"INSERT INTO queue_counts (band, total) SELECT '{band}', 0 "
                   f"WHERE NOT EXISTS (SELECT 1 FROM queue_counts WHERE band = '{band}')")


def downgrade():
    dialect = op.get_bind().dialect.name
    for name in ('insert', 'delete', 'update'):
        if dialect == 'postgresql':
            op.execute(f"DROP TRIGGER comments_count_{name} ON comments")
        else:
            op.execute(f"DROP TRIGGER comments_count_{name}")
    if dialect == 'postgresql':
        op.execute("DROP FUNCTION comments_count_changes()")
    op.drop_table('queue_count_changes')
    op.drop_table('queue_counts')
