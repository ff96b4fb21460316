"""Storage: one small data layer over SQLAlchemy Core, one function per query.

SQLite by default (a file in the instance folder, WAL mode), PostgreSQL when the database URL says
so (``postgresql+psycopg://...``). Nothing else in the service writes SQL.

Schema changes are numbered migrations recorded in ``schema_version``. A fresh database gets the
tables as declared below and is stamped with :data:`SCHEMA_VERSION`; an older one is brought up to
date by running each migration after its recorded version, in order, in one transaction. To change
the schema: edit the declarations, bump ``SCHEMA_VERSION`` and add ``MIGRATIONS[n]``, a function
that alters a version ``n - 1`` database to match.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from functools import partial

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

try:
    import fcntl
except ImportError:  # Windows has no fcntl: SQLite's own locking alone there
    fcntl = None

__all__ = [
    "MIGRATIONS",
    "QUEUES",
    "SCHEMA_VERSION",
    "connect",
    "make_engine",
    "metadata",
    "migrate",
    "ping",
    "schema_version",
    "text_sha256",
    "transaction",
]

SCHEMA_VERSION = 10
"""The schema this code reads and writes."""

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only
_KEY = sa.String(200)

metadata = sa.MetaData()

schema_versions = sa.Table(
    "schema_version", metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("applied_at", sa.DateTime, nullable=False),
)

articles = sa.Table(
    "articles", metadata,
    sa.Column("site_id", _KEY, primary_key=True),
    sa.Column("article_id", _KEY, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("url", sa.Text),
    sa.Column("text_sha256", sa.String(64), nullable=False),
    sa.Column("source", sa.String(40), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

authors = sa.Table(
    "authors", metadata,
    sa.Column("site_id", _KEY, primary_key=True),
    sa.Column("author_id", _KEY, primary_key=True),
    sa.Column("strikes", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

comments = sa.Table(
    "comments", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("site_id", _KEY, nullable=False),
    sa.Column("comment_id", _KEY, nullable=False),
    sa.Column("article_id", _KEY),
    sa.Column("parent_id", _KEY),
    sa.Column("author_id", _KEY),
    sa.Column("source", sa.String(40), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    # Whether the comment counts a strike against its author (version 4): one per comment, whichever of
    # the service (a rejection on a label) and moderators (a rejection, or an approval that takes it back) set it.
    sa.Column("struck", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("site_id", "comment_id", name="uq_comments_site_comment"),
)

verdicts = sa.Table(
    "verdicts", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("comment_pk", _ID, sa.ForeignKey("comments.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("text_sha256", sa.String(64), nullable=False),
    sa.Column("action", sa.String(10), nullable=False),
    sa.Column("reasons", sa.JSON, nullable=False),
    sa.Column("scores", sa.JSON),
    sa.Column("stance", sa.String(20)),
    sa.Column("stance_scores", sa.JSON),
    sa.Column("language", sa.String(10)),
    sa.Column("fallback", sa.String(20)),
    sa.Column("model_version", sa.Text, nullable=False),
    sa.Column("policy_version", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("revision", sa.BigInteger),  # version 8: the CMS's own edit count the request carried, if any
    sa.UniqueConstraint("comment_pk", "version", name="uq_verdicts_comment_version"),
    sa.Index("ix_verdicts_created_at", "created_at"),  # version 7: the review queue's look-back (verdicts_since)
)

labels = sa.Table(
    "labels", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("site_id", _KEY, nullable=False),
    sa.Column("comment_ref", sa.Text),
    sa.Column("text", sa.Text),
    sa.Column("label", sa.String(60), nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("source", sa.String(80), nullable=False),
    sa.Column("provenance", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("scores", sa.JSON),  # the model's scores when the label was given (version 2)
    sa.Column("model_version", sa.Text),  # version 2
)
# The duplicate check of resent feedback (insert_labels_once) finds labels by comment, or by site and
# label for feedback on no named comment (version 3). On PostgreSQL the comment index is a hash index:
# a btree entry is capped at about 2.7 kB and comment refs were not always bounded, so a btree built on
# an older database could fail, and with it the service's start.
_LABELS_INDEXES = (
    sa.Index("ix_labels_comment_ref", labels.c.comment_ref, postgresql_using="hash"),
    sa.Index("ix_labels_no_ref", labels.c.site_id, labels.c.label, postgresql_where=labels.c.comment_ref.is_(None),
             sqlite_where=labels.c.comment_ref.is_(None)),
)

coral_events = sa.Table(
    "coral_events", metadata,
    sa.Column("event_id", _KEY, primary_key=True),
    sa.Column("type", sa.String(80), nullable=False),
    sa.Column("tenant_id", sa.Text),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("received_at", sa.DateTime, nullable=False),
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("event", sa.String(60), nullable=False),
    sa.Column("site_id", _KEY),
    sa.Column("subject", sa.Text),
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Column("actor", _KEY),  # who did it: a moderator's user name; empty for the service (version 2)
)

# The review queue (version 2) ---------------------------------------------------------------------
QUEUES = ("pending", "reported", "rejected", "approved")
"""Review queues: held by the policy, published but near a threshold, rejected, approved."""

users = sa.Table(
    "users", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("username", _KEY, nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    # When the user last signed out (version 6): every session begun before it has ended, on any browser.
    sa.Column("signed_out_at", sa.DateTime),
)

# One row per comment: which queue its latest verdict (or a moderator's decision on it) puts it in.
review_items = sa.Table(
    "review_items", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("comment_pk", _ID, sa.ForeignKey("comments.id"), nullable=False, unique=True),
    sa.Column("verdict_id", _ID, sa.ForeignKey("verdicts.id"), nullable=False),
    sa.Column("site_id", _KEY, nullable=False),
    sa.Column("comment_id", _KEY, nullable=False),
    sa.Column("article_id", _KEY),
    sa.Column("author_id", _KEY),
    sa.Column("model_action", sa.String(10), nullable=False),
    sa.Column("queue", sa.String(20), nullable=False),
    sa.Column("risk", sa.Float, nullable=False),
    sa.Column("labels", sa.String(200), nullable=False),  # ",profanity,incitement," for filtering
    sa.Column("verdict_at", sa.DateTime, nullable=False),
    sa.Column("decision", sa.String(10)),
    sa.Column("decided_by", _KEY),
    sa.Column("decided_at", sa.DateTime),
    sa.Column("reason_code", sa.String(40)),
    sa.Column("explanation", sa.Text),
    # version 9: an approval's policy labels the moderator says the comment still has ("profanity,personal_attack"),
    # allowed on this site; none when null
    sa.Column("allowed", sa.String(200)),
    # version 10: the verdict's text as its card shows it, for search (markup made plain, invisible characters
    # dropped, lower case; ``review.search.searchable``); null until the queue's next sync fills it in
    sa.Column("search_text", sa.Text),
    sa.Index("ix_review_items_queue_time", "queue", "verdict_at"),
    sa.Index("ix_review_items_queue_risk", "queue", "risk"),
    sa.Index("ix_review_items_author", "site_id", "author_id"),
    sa.Index("ix_review_items_decider", "decided_by", "decided_at"),  # version 5: a moderator's own decisions
    # version 10: the items whose search text is still to be filled in, found without reading the table
    sa.Index("ix_review_items_unindexed", "id", sqlite_where=sa.text("search_text IS NULL"),
             postgresql_where=sa.text("search_text IS NULL")),
)

# Durable outbox of callbacks to the CMS: written in the decision's transaction, delivered later.
outbox = sa.Table(
    "outbox", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("delivery_id", sa.String(40), nullable=False, unique=True),
    sa.Column("site_id", _KEY, nullable=False),
    sa.Column("event", sa.String(60), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # pending | delivered | failed
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.DateTime, nullable=False),
    sa.Column("last_status", sa.Integer),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("delivered_at", sa.DateTime),
    sa.Index("ix_outbox_due", "status", "next_attempt_at"),
)



def _add_review_queue(conn) -> None:
    """Review queue: users, review items, the callback outbox; labels keep scores; audit lines name who."""
    metadata.create_all(conn, tables=[users, review_items, outbox])
    for table, column in ((labels, labels.c.scores), (labels, labels.c.model_version), (audit_log, audit_log.c.actor)):
        kind = column.type.compile(dialect=conn.dialect)
        conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}"))


def _index_labels(conn) -> None:
    """Labels are indexed by comment (and by site and label where none is named), so resent feedback is
    found without a table scan."""
    for index in _LABELS_INDEXES:
        index.create(conn)


def _add_comment_strikes(conn) -> None:
    """Comments record whether they count a strike against their author (struck), for the service and the review
    queue alike."""
    false = sa.false().compile(dialect=conn.dialect)
    conn.execute(sa.text(f"ALTER TABLE comments ADD COLUMN struck BOOLEAN DEFAULT {false} NOT NULL"))
    # The strikes counted so far were never recorded per comment; this is the best reading of them: struck when
    # a moderator's decision on its latest text is a rejection, or, undecided, when the model rejected some
    # version on a label. (Authors' counts stay as they are, even where the two disagreed: an edit rejected again
    # after a moderator's rejection, or after an approval, was counted differently.)
    decided = dict(conn.execute(sa.select(review_items.c.comment_pk, review_items.c.decision)
                                .where(review_items.c.decision.is_not(None))).all())
    struck = {pk for pk, decision in decided.items() if decision == "reject"}
    rejected = conn.execute(sa.select(verdicts.c.comment_pk, verdicts.c.reasons).where(verdicts.c.action == "reject"))
    struck.update(pk for pk, reasons in rejected if pk not in decided and any(
        r.get("action") == "reject" and r.get("label") for r in reasons or ()))
    ids = sorted(struck)
    for start in range(0, len(ids), 500):
        conn.execute(sa.update(comments).where(comments.c.id.in_(ids[start:start + 500]),
                                               comments.c.author_id.is_not(None)).values(struck=True))


def _index_deciders(conn) -> None:
    """Review items are indexed by who decided them and when, for each moderator's page of their own decisions.
    (A database that gained the review queue at version 2 from these declarations has the index already.)"""
    next(i for i in review_items.indexes if i.name == "ix_review_items_decider").create(conn, checkfirst=True)


def _add_sign_outs(conn) -> None:
    """Users record when they last signed out, which ends their sessions everywhere. (A database that gained
    the review queue at version 2 from these declarations has the column already.)"""
    if "signed_out_at" not in {c["name"] for c in sa.inspect(conn).get_columns("users")}:
        kind = users.c.signed_out_at.type.compile(dialect=conn.dialect)
        conn.execute(sa.text(f"ALTER TABLE users ADD COLUMN signed_out_at {kind}"))


def _index_verdict_times(conn) -> None:
    """Verdicts are indexed by when they were stored, so that the review queue looks back over recent ones by
    time (``verdicts_since``)."""
    next(i for i in verdicts.indexes if i.name == "ix_verdicts_created_at").create(conn, checkfirst=True)


def _add_verdict_revisions(conn) -> None:
    """Verdicts keep the CMS's own revision of the comment they judged, when the request named one."""
    if "revision" not in {c["name"] for c in sa.inspect(conn).get_columns("verdicts")}:
        kind = verdicts.c.revision.type.compile(dialect=conn.dialect)
        conn.execute(sa.text(f"ALTER TABLE verdicts ADD COLUMN revision {kind}"))


def _add_allowed_labels(conn) -> None:
    """An approval can say which policy labels the comment still has, allowed on the site."""
    if "allowed" not in {c["name"] for c in sa.inspect(conn).get_columns("review_items")}:
        kind = review_items.c.allowed.type.compile(dialect=conn.dialect)
        conn.execute(sa.text(f"ALTER TABLE review_items ADD COLUMN allowed {kind}"))


def _add_search_text(conn) -> None:
    """Review items keep their text as the card shows it, so that search finds a word spelt with a character
    reference or split by a tag (filled in by the queue's syncs, a batch at a time)."""
    if "search_text" not in {c["name"] for c in sa.inspect(conn).get_columns("review_items")}:
        kind = review_items.c.search_text.type.compile(dialect=conn.dialect)
        conn.execute(sa.text(f"ALTER TABLE review_items ADD COLUMN search_text {kind}"))
    next(i for i in review_items.indexes if i.name == "ix_review_items_unindexed").create(conn, checkfirst=True)


MIGRATIONS: dict = {2: _add_review_queue, 3: _index_labels, 4: _add_comment_strikes, 5: _index_deciders,
                    6: _add_sign_outs, 7: _index_verdict_times, 8: _add_verdict_revisions, 9: _add_allowed_labels,
                    10: _add_search_text}
"""``MIGRATIONS[n](conn)`` alters a version ``n - 1`` database to version ``n``."""


# Engines and transactions -------------------------------------------------------------------------
def make_engine(url: str, timeout: float | None = None) -> sa.Engine:
    """An engine for a SQLite or PostgreSQL URL, set up for concurrent gunicorn workers.

    ``timeout`` bounds, in seconds, how long one statement waits: for SQLite's write lock, for a
    PostgreSQL lock or query (``statement_timeout``), and for a PostgreSQL server that stops
    acknowledging what is sent (``tcp_user_timeout``). The service passes ``MODERATION_DB_TIMEOUT``,
    so a stuck database gets its 503 instead of gunicorn killing the worker at 30 s; command-line
    tools (exports, reports) pass None: no statement limit, and SQLite waits up to 30 s for its lock.
    """
    parsed = sa.engine.make_url(url)
    limit_ms = max(1, round(timeout * 1000)) if timeout and timeout > 0 else 0
    # A failed statement's error names its parameters unless told not to: readers' comments and
    # author ids would then reach the service's log.
    if parsed.get_backend_name() == "sqlite":
        wait = limit_ms / 1000 if limit_ms else 30.0
        engine = sa.create_engine(parsed, connect_args={"check_same_thread": False, "timeout": wait},
                                  hide_parameters=True)
        event.listen(engine, "connect", partial(_sqlite_connect, busy_ms=int(wait * 1000)))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        # A server that does not answer fails a new connection in 10 s, well inside a worker's 30 s timeout,
        # so the request gets the service's 503 rather than a killed worker.
        connect_args = {"connect_timeout": 10}
        if limit_ms:
            connect_args["tcp_user_timeout"] = limit_ms
        engine = sa.create_engine(parsed, pool_pre_ping=True, hide_parameters=True, connect_args=connect_args)
        if limit_ms:
            event.listen(engine, "connect", partial(_postgres_connect, limit_ms=limit_ms))
        return engine
    raise ValueError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql+psycopg://")


def _postgres_connect(dbapi_conn, _record, limit_ms: int) -> None:
    # Set on the session rather than in the URL's options, which may already carry a search_path.
    with dbapi_conn.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = {int(limit_ms)}")
    dbapi_conn.commit()


def _sqlite_connect(dbapi_conn, _record, busy_ms: int = 30_000) -> None:
    # We issue BEGIN ourselves (below); WAL lets readers run while a worker writes, and
    # synchronous=FULL makes each commit durable before the answer goes out.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    # wal_autocheckpoint=0: checkpoints run after the write lock is released (see transaction()).
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", f"busy_timeout={int(busy_ms)}",
                   "wal_autocheckpoint=0"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(conn) -> None:
    # A write transaction takes the write lock up front: two workers that both read and then try
    # to write would otherwise deadlock, and SQLite would fail one of them at once.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")


@contextmanager
def connect(engine: sa.Engine):
    """A connection for reading; whatever it began is rolled back when it closes."""
    with engine.connect() as conn:
        yield conn


# SQLite's own checkpoint runs inside the commit that fills the log (every 1,000 pages), that is,
# inside a request, with the write lock held: now and then it took 20-30 ms on this machine's disk,
# and every other worker's write waited behind it. Here a passive checkpoint (it never waits for,
# nor blocks, readers and writers) runs every CHECKPOINT_EVERY commits of a process, after the lock
# is released.
CHECKPOINT_EVERY = 100
_commits = itertools.count(1)


@contextmanager
def transaction(engine: sa.Engine):
    """A write transaction, committed (durably) when the block ends without an error."""
    with _sqlite_write_lock(engine), engine.connect() as conn:
        conn.execution_options(write=True)
        with conn.begin():
            yield conn
    if engine.dialect.name == "sqlite" and next(_commits) % CHECKPOINT_EVERY == 0:
        checkpoint(engine)


def checkpoint(engine: sa.Engine) -> None:
    """Copy a SQLite database's write-ahead log into the database file, as far as no reader needs it."""
    raw = engine.raw_connection()
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    finally:
        raw.close()


def _sqlite_write_lock(engine: sa.Engine):
    """An exclusive lock on a file next to a SQLite database, held for one write transaction.

    SQLite lets one writer in at a time and makes the others poll, sleeping 1, 2, 5, 10 ... 100 ms
    between tries: with several gunicorn workers writing, that polling, not the work, set the tail
    latency. Waiting on this lock instead wakes the next writer as soon as the last one commits.
    BEGIN IMMEDIATE stays as it was, so a writer that does not take the lock is still safe.
    """
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:") or fcntl is None:
        return nullcontext()
    return _file_lock(f"{database}-writelock")


@contextmanager
def _file_lock(path: str):
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def now() -> datetime:
    """The current UTC time, as stored (naive UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Statements are built once (building one costs more than running it on SQLite); the upserts once
# per dialect, since INSERT ... ON CONFLICT is spelled by each dialect's own construct.
_P = sa.bindparam


def _per_dialect(build) -> dict:
    return {"sqlite": build(sqlite_insert), "postgresql": build(postgresql_insert)}


def _run(conn, statements: dict, params: dict):
    return conn.execute(statements[conn.dialect.name], params)


# Migrations ---------------------------------------------------------------------------------------
def schema_version(conn) -> int | None:
    """The database's schema version, or None for an empty database."""
    if not sa.inspect(conn).has_table("schema_version"):
        return None
    return conn.execute(sa.select(sa.func.max(schema_versions.c.version))).scalar()


def _lock_for_migration(conn) -> None:
    # Two gunicorn workers start at once; only one may migrate. (SQLite's BEGIN IMMEDIATE already
    # serialises them.)
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(7261960413)"))


def migrate(engine: sa.Engine) -> int:
    """Create or upgrade the schema to :data:`SCHEMA_VERSION`; return the version found before.

    Waiting for another worker's migration, or an index built on a large table, may take longer than
    a request's limit (``MODERATION_DB_TIMEOUT``): PostgreSQL lifts it for the migration's
    transaction, and a SQLite file is migrated through an engine of its own that waits 30 s for the
    write lock, as before that limit.
    """
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if database and database != ":memory:" and not database.startswith("file::memory:"):
        patient = make_engine(engine.url.render_as_string(hide_password=False))
        try:
            return _apply_migrations(patient)
        finally:
            patient.dispose()
    return _apply_migrations(engine)


def _apply_migrations(engine: sa.Engine) -> int:
    with transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SET LOCAL statement_timeout = 0"))  # see migrate()
        _lock_for_migration(conn)
        found = schema_version(conn)
        if found is None:
            metadata.create_all(conn)
            conn.execute(sa.insert(schema_versions).values(
                version=SCHEMA_VERSION, description="created at this version", applied_at=now()))
            return 0
        if found > SCHEMA_VERSION:
            raise RuntimeError(f"the database schema is at version {found}, newer than this code "
                               f"({SCHEMA_VERSION}): upgrade the service")
        for version in range(found + 1, SCHEMA_VERSION + 1):
            step = MIGRATIONS[version]
            step(conn)
            conn.execute(sa.insert(schema_versions).values(
                version=version, description=(step.__doc__ or step.__name__).strip(), applied_at=now()))
        return found


def ping(conn) -> None:
    """Raise unless the database answers."""
    conn.execute(sa.text("SELECT 1")).scalar()


# Articles -----------------------------------------------------------------------------------------
_ARTICLES = sa.select(articles).where(articles.c.site_id == _P("site_id"),
                                      articles.c.article_id.in_(_P("ids", expanding=True)))
_ARTICLE = sa.select(articles).where(articles.c.site_id == _P("site_id"), articles.c.article_id == _P("id"))


def _by_ids(conn, many, one, site_id: str, ids: list[str]):
    """Rows for a list of ids: a single id by equality (a list parameter is re-rendered on every run)."""
    if len(ids) == 1:
        return conn.execute(one, {"site_id": site_id, "id": ids[0]})
    return conn.execute(many, {"site_id": site_id, "ids": ids})


def _upsert_article(insert):
    stmt = insert(articles)
    return stmt.on_conflict_do_update(index_elements=["site_id", "article_id"], set_={
        "title": stmt.excluded.title, "body": stmt.excluded.body, "text_sha256": stmt.excluded.text_sha256,
        "source": stmt.excluded.source, "updated_at": stmt.excluded.updated_at,
        "url": sa.func.coalesce(stmt.excluded.url, articles.c.url)})


_UPSERT_ARTICLE = _per_dialect(_upsert_article)
_NOTE_ARTICLE = _per_dialect(lambda insert: insert(articles).on_conflict_do_nothing(
    index_elements=["site_id", "article_id"]))


def articles_by_id(conn, site_id: str, article_ids) -> dict[str, dict]:
    """Stored articles of a site, by id."""
    ids = sorted({a for a in article_ids if a})
    if not ids:
        return {}
    return {r.article_id: r._asdict() for r in _by_ids(conn, _ARTICLES, _ARTICLE, site_id, ids)}


def upsert_article(conn, site_id: str, article_id: str, title: str | None, body: str | None, url: str | None,
                   source: str) -> dict:
    """Register an article's text, or replace it; a title, body or URL given as None keeps the stored one
    (a request that sends only the title does not blank the body stance is read against)."""
    stamp = now()
    if title is None or body is None:
        stored = conn.execute(_ARTICLE, {"site_id": site_id, "id": article_id}).first()
        title = title if title is not None else (stored.title if stored else "")
        body = body if body is not None else (stored.body if stored else "")
    _run(conn, _UPSERT_ARTICLE, {
        "site_id": site_id, "article_id": article_id, "title": title, "body": body, "url": url,
        "text_sha256": text_sha256(f"{title}\n{body}"), "source": source, "created_at": stamp, "updated_at": stamp})
    return articles_by_id(conn, site_id, [article_id])[article_id]


def note_article(conn, site_id: str, article_id: str, url: str | None, source: str) -> None:
    """Record that an article exists (Coral sends ids and URLs, never text); keep any text we have."""
    stamp = now()
    _run(conn, _NOTE_ARTICLE, {"site_id": site_id, "article_id": article_id, "title": "", "body": "", "url": url,
                               "text_sha256": text_sha256("\n"), "source": source, "created_at": stamp,
                               "updated_at": stamp})


# Authors ------------------------------------------------------------------------------------------
_AUTHORS = sa.select(authors).where(authors.c.site_id == _P("site_id"),
                                    authors.c.author_id.in_(_P("ids", expanding=True)))
_AUTHOR = sa.select(authors).where(authors.c.site_id == _P("site_id"), authors.c.author_id == _P("id"))


def _add_strike(insert):
    stmt = insert(authors)
    return stmt.on_conflict_do_update(index_elements=["site_id", "author_id"], set_={
        "strikes": authors.c.strikes + 1, "updated_at": stmt.excluded.updated_at})


_ADD_STRIKE = _per_dialect(_add_strike)


def authors_by_id(conn, site_id: str, author_ids) -> dict[str, dict]:
    """Strikes and status of a site's authors, by id."""
    ids = sorted({a for a in author_ids if a})
    if not ids:
        return {}
    return {r.author_id: r._asdict() for r in _by_ids(conn, _AUTHORS, _AUTHOR, site_id, ids)}


def author_for_update(conn, site_id: str, author_id: str) -> dict | None:
    """An author's strikes and status, read in a write transaction and locked until it ends, so that no strike
    is counted between reading them and changing them (SQLite's writer lock already sees to that)."""
    row = conn.execute(_AUTHOR.with_for_update(), {"site_id": site_id, "id": author_id}).first()
    return row._asdict() if row else None


def add_strike(conn, site_id: str, author_id: str) -> None:
    """Count one more rejected comment against an author."""
    _run(conn, _ADD_STRIKE, {"site_id": site_id, "author_id": author_id, "strikes": 1, "status": "active",
                             "updated_at": now()})


def remove_strike(conn, site_id: str, author_id: str) -> None:
    """Take back one strike (a moderator overturned a rejection); never below zero."""
    conn.execute(sa.update(authors).where(authors.c.site_id == site_id, authors.c.author_id == author_id,
                                          authors.c.strikes > 0).values(strikes=authors.c.strikes - 1, updated_at=now()))


# Updated only when it changes: of two transactions setting it at once, the second finds it set (on PostgreSQL
# it waits for the first's row lock, then reads the row again) and changes nothing.
_SET_STRUCK = sa.update(comments).where(comments.c.id == _P("comment_pk"), comments.c.struck != _P("flag")).values(
    struck=_P("flag"))


def set_struck(conn, site_id: str, author_id: str, comment_pk: int, struck: bool) -> bool:
    """Count a comment (by its row id) as a strike against its author, or take that strike back, unless it
    already is (or is not) one; return whether it changed. A comment is at most one strike."""
    if conn.execute(_SET_STRUCK, {"comment_pk": comment_pk, "flag": struck}).rowcount != 1:
        return False
    (add_strike if struck else remove_strike)(conn, site_id, author_id)
    return True


# Comments and verdicts ----------------------------------------------------------------------------
_VERDICT_COLUMNS = (comments.c.site_id, comments.c.comment_id, comments.c.article_id, comments.c.parent_id,
                    comments.c.author_id, comments.c.source, verdicts)
_VERDICTS = (sa.select(*_VERDICT_COLUMNS).join(verdicts, verdicts.c.comment_pk == comments.c.id)
             .where(comments.c.site_id == _P("site_id")))
_LATEST = _VERDICTS.where(comments.c.comment_id.in_(_P("ids", expanding=True))).order_by(verdicts.c.version.desc())
_FIND_LATEST = _VERDICTS.where(comments.c.comment_id == _P("comment_id")).order_by(
    verdicts.c.version.desc()).limit(1)
_FIND_VERSION = _VERDICTS.where(comments.c.comment_id == _P("comment_id"), verdicts.c.version == _P("version"))
_TEXTS = sa.select(comments.c.comment_id, comments.c.text).where(
    comments.c.site_id == _P("site_id"), comments.c.comment_id.in_(_P("ids", expanding=True)))
_INSERT_VERDICT = sa.insert(verdicts).returning(verdicts.c.id)


_COMMENT_REFS = ("article_id", "parent_id", "author_id")


def _save_comment(insert):
    stmt = insert(comments)
    # An edit often comes with its new text alone: what it leaves out (None) keeps the stored value.
    kept = {name: sa.func.coalesce(getattr(stmt.excluded, name), getattr(comments.c, name)) for name in _COMMENT_REFS}
    return stmt.on_conflict_do_update(index_elements=["site_id", "comment_id"], set_={
        "text": stmt.excluded.text, "updated_at": stmt.excluded.updated_at, **kept}).returning(
        comments.c.id, *(getattr(comments.c, name) for name in _COMMENT_REFS))


_SAVE_COMMENT = _per_dialect(_save_comment)


def latest_verdicts(conn, site_id: str, comment_ids) -> dict[str, dict]:
    """The latest stored verdict of each listed comment that has one."""
    ids = sorted(set(comment_ids))
    if not ids:
        return {}
    if len(ids) == 1:  # the one-comment request: an equality lookup (see _by_ids)
        row = find_verdict(conn, site_id, ids[0])
        return {ids[0]: row} if row else {}
    latest: dict[str, dict] = {}
    for row in conn.execute(_LATEST, {"site_id": site_id, "ids": ids}):
        latest.setdefault(row.comment_id, row._asdict())
    return latest


_HEAD = (sa.select(verdicts.c.version, verdicts.c.text_sha256, verdicts.c.action, verdicts.c.revision)
         .join(comments, verdicts.c.comment_pk == comments.c.id)
         .where(comments.c.site_id == _P("site_id"), comments.c.comment_id == _P("comment_id"))
         .order_by(verdicts.c.version.desc()).limit(1))


def latest_head(conn, site_id: str, comment_id: str) -> dict | None:
    """Version, text hash and action of a comment's latest verdict: the write path's check, without
    reading (and decoding) the whole stored verdict."""
    row = conn.execute(_HEAD, {"site_id": site_id, "comment_id": comment_id}).first()
    return row._asdict() if row else None


def find_verdict(conn, site_id: str, comment_id: str, version: int | None = None) -> dict | None:
    """One stored verdict: the latest, or the given version."""
    if version is None:
        row = conn.execute(_FIND_LATEST, {"site_id": site_id, "comment_id": comment_id}).first()
    else:
        row = conn.execute(_FIND_VERSION, {"site_id": site_id, "comment_id": comment_id, "version": version}).first()
    return row._asdict() if row else None


def comment_texts(conn, site_id: str, comment_ids) -> dict[str, str]:
    """The latest text of each listed comment that is stored."""
    ids = sorted({c for c in comment_ids if c})
    if not ids:
        return {}
    return {r.comment_id: r.text for r in conn.execute(_TEXTS, {"site_id": site_id, "ids": ids})}


_STRUCK = sa.select(comments.c.comment_id).where(
    comments.c.site_id == _P("site_id"), comments.c.comment_id.in_(_P("ids", expanding=True)), comments.c.struck)


_AUTHORED = sa.select(comments.c.author_id, comments.c.struck).where(
    comments.c.site_id == _P("site_id"), comments.c.comment_id == _P("comment_id"))


def authored(conn, site_id: str, comment_id: str) -> tuple[str | None, bool] | None:
    """A stored comment's author and whether it counts a strike against them (None when it is not stored)."""
    row = conn.execute(_AUTHORED, {"site_id": site_id, "comment_id": comment_id}).first()
    return (row.author_id, bool(row.struck)) if row else None


def struck_comments(conn, site_id: str, comment_ids) -> set[str]:
    """Which of the listed comments count a strike against their author now (``set_struck``)."""
    ids = sorted({c for c in comment_ids if c})
    if not ids:
        return set()
    return {r.comment_id for r in conn.execute(_STRUCK, {"site_id": site_id, "ids": ids})}


def save_comment(conn, site_id: str, comment_id: str, text: str, article_id: str | None,
                 parent_id: str | None, author_id: str | None, source: str) -> int:
    """Insert a comment or record its edit; return its row id."""
    return store_comment(conn, site_id, comment_id, text, article_id, parent_id, author_id, source)["id"]


def store_comment(conn, site_id: str, comment_id: str, text: str, article_id: str | None,
                  parent_id: str | None, author_id: str | None, source: str) -> dict:
    """Insert a comment or record its edit; return its row id and its article, parent and author as stored.

    An id given as None keeps the stored one, so an edit sent without them loses nothing.
    """
    stamp = now()
    return _run(conn, _SAVE_COMMENT, {
        "site_id": site_id, "comment_id": comment_id, "text": text, "article_id": article_id,
        "parent_id": parent_id, "author_id": author_id, "source": source, "created_at": stamp,
        "updated_at": stamp}).one()._asdict()


def insert_verdict(conn, comment_pk: int, version: int, text: str, verdict: dict) -> dict:
    """Store one version of a comment's verdict; return the stored row."""
    values = {
        "comment_pk": comment_pk, "version": version, "text": text, "text_sha256": text_sha256(text),
        "action": verdict["action"], "reasons": verdict["reasons"], "scores": verdict.get("scores"),
        "stance": verdict.get("stance"), "stance_scores": verdict.get("stance_scores"),
        "language": verdict.get("language"), "fallback": verdict.get("fallback"),
        "model_version": verdict["model_version"], "policy_version": verdict["policy_version"],
        "created_at": now(), "revision": verdict.get("revision")}
    values["id"] = conn.execute(_INSERT_VERDICT, values).scalar_one()
    return values


# Labels, Coral events, audit ----------------------------------------------------------------------
_INSERT_LABEL = sa.insert(labels)
_INSERT_EVENT = _per_dialect(lambda insert: insert(coral_events).on_conflict_do_nothing(
    index_elements=["event_id"]).returning(coral_events.c.event_id))
_INSERT_AUDIT = sa.insert(audit_log)


def insert_label(conn, site_id: str, comment_ref: str | None, text: str | None, label: str, value: float,
                 source: str, provenance: dict, scores: dict | None = None, model_version: str | None = None) -> None:
    """Store one feedback label (a moderator's decision or a suggested score), with the model's scores then."""
    conn.execute(_INSERT_LABEL, {"site_id": site_id, "comment_ref": comment_ref, "text": text, "label": label,
                                 "value": value, "source": source, "provenance": provenance, "created_at": now(),
                                 "scores": scores, "model_version": model_version})


def _latest_label(same_ref):
    return sa.select(labels.c.value).where(
        labels.c.site_id == _P("site_id"), same_ref, labels.c.label == _P("label"),
        labels.c.source == _P("source"), labels.c.text.is_not_distinct_from(_P("text"))
    ).order_by(labels.c.id.desc()).limit(1)


# "=" and "IS NULL", not IS NOT DISTINCT FROM, which PostgreSQL cannot look up in an index.
_LATEST_LABEL = _latest_label(labels.c.comment_ref == _P("comment_ref"))
_LATEST_LABEL_NO_REF = _latest_label(labels.c.comment_ref.is_(None))


def insert_labels_once(conn, site_id: str, comment_ref: str | None, text: str | None, values: dict[str, float],
                       source: str, provenance: dict) -> dict[str, float]:
    """Store feedback labels (label: value) for one comment, each unless the latest one stored for the
    same site, comment, text, label and source has the same value, so a client that resends its
    feedback counts once while a changed mind (reject, approve, reject again) is kept, the latest
    decision last; return the labels stored."""
    if conn.dialect.name == "postgresql":  # two resends at once must not both find nothing (SQLite: BEGIN IMMEDIATE)
        # One lock per comment, whatever labels it gets: a lock per label, taken in the client's order,
        # let two resends that list them in different orders deadlock.
        key = hashlib.sha256(f"label\x1f{site_id}\x1f{comment_ref}".encode()).digest()[:8]
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": int.from_bytes(key, "big", signed=True)})
    lookup = _LATEST_LABEL_NO_REF if comment_ref is None else _LATEST_LABEL
    stored = {}
    for label, value in values.items():
        params = {"site_id": site_id, "comment_ref": comment_ref, "text": text, "label": label, "source": source}
        latest = conn.execute(lookup, params).first()
        if latest is None or latest.value != value:
            insert_label(conn, site_id, comment_ref, text, label, value, source, provenance)
            stored[label] = value
    return stored


def insert_coral_event(conn, event_id: str, event_type: str, tenant_id: str | None, payload: dict) -> bool:
    """Store a Coral webhook event; False when it was already stored (Coral re-delivered it)."""
    result = _run(conn, _INSERT_EVENT, {"event_id": event_id, "type": event_type, "tenant_id": tenant_id,
                                        "payload": payload, "received_at": now()})
    return result.first() is not None  # nothing comes back when the id was already there


def insert_audit(conn, event_name: str, site_id: str | None, subject: str | None, detail: dict,
                 actor: str | None = None) -> None:
    """Append one line to the audit log; ``actor`` is the moderator who acted (None: the service)."""
    conn.execute(_INSERT_AUDIT, {"at": now(), "event": event_name, "site_id": site_id, "subject": subject,
                                 "detail": detail, "actor": actor})


def labels_for(conn, comment_ref: str) -> list[dict]:
    """Feedback labels stored for one comment reference, oldest first."""
    rows = conn.execute(sa.select(labels).where(labels.c.comment_ref == comment_ref).order_by(labels.c.id))
    return [r._asdict() for r in rows]


def count(conn, table_name: str) -> int:
    """Rows in one of the service's tables."""
    table = metadata.tables[table_name]
    return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


# Users (version 2) --------------------------------------------------------------------------------
def create_user(conn, username: str, password_hash: str, role: str) -> dict:
    """Add a user of the review queue; return the stored row."""
    stamp = now()
    conn.execute(sa.insert(users).values(username=username, password_hash=password_hash, role=role, active=True,
                                         created_at=stamp, updated_at=stamp))
    return user_by_name(conn, username)


def user_by_name(conn, username: str) -> dict | None:
    row = conn.execute(sa.select(users).where(users.c.username == username)).first()
    return row._asdict() if row else None


def user_by_id(conn, user_id: int) -> dict | None:
    row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
    return row._asdict() if row else None


def list_users(conn) -> list[dict]:
    return [r._asdict() for r in conn.execute(sa.select(users).order_by(users.c.username))]


def sign_out_user(conn, user_id: int) -> None:
    """End every session the user has begun until now (their signed cookies stay valid until they expire)."""
    conn.execute(sa.update(users).where(users.c.id == user_id).values(signed_out_at=now()))


def update_user(conn, user_id: int, **values) -> None:
    """Change a user's role, active flag or password hash.

    Deactivating a user or setting their password also signs them out everywhere: a deactivation that only
    hid the user while inactive would let their old cookies (a stolen one too) work again on reactivation.
    """
    allowed = {k: v for k, v in values.items() if k in ("role", "active", "password_hash")}
    stamp = now()
    if ("active" in allowed and not allowed["active"]) or "password_hash" in allowed:
        allowed["signed_out_at"] = stamp
    conn.execute(sa.update(users).where(users.c.id == user_id).values(**allowed, updated_at=stamp))


# Review items (version 2) -------------------------------------------------------------------------
# PostgreSQL hands out verdict ids when rows are written and commits them in any order, so a transaction that
# took its ids early can commit after later ids were synced. The queue looks back over the last _SYNC_LOOKBACK
# ids and over every verdict stored in the last _SYNC_LOOKBACK_TIME: a request's transaction cannot outlive
# a worker's 30 s timeout (gunicorn then kills the worker and the database rolls it back).
_SYNC_LOOKBACK = 500
_SYNC_LOOKBACK_TIME = timedelta(minutes=1)  # twice that timeout: a few thousand rows a page at 200 req/s


def review_cursor(conn) -> int:
    """The newest verdict id the review queue has seen."""
    return conn.execute(sa.select(sa.func.coalesce(sa.func.max(review_items.c.verdict_id), 0))).scalar_one()


def verdicts_since(conn, after_id: int, limit: int = 5000) -> list[dict]:
    """Verdicts stored after ``after_id``, or within the look-back windows (ids and time), that the queue has not
    seen, oldest first."""
    query = (sa.select(verdicts.c.id.label("verdict_id"), verdicts.c.comment_pk, verdicts.c.action,
                       verdicts.c.text_sha256, verdicts.c.scores, verdicts.c.created_at, comments.c.site_id,
                       comments.c.comment_id, comments.c.article_id, comments.c.author_id)
             .join(comments, comments.c.id == verdicts.c.comment_pk)
             .outerjoin(review_items, review_items.c.comment_pk == verdicts.c.comment_pk)
             .where(sa.or_(review_items.c.id.is_(None), review_items.c.verdict_id < verdicts.c.id)))
    # Two queries, each an index range (one condition OR the other makes SQLite scan every verdict).
    by_id = query.where(verdicts.c.id > max(0, after_id - _SYNC_LOOKBACK)).order_by(verdicts.c.id)
    by_time = query.where(verdicts.c.created_at >= now() - _SYNC_LOOKBACK_TIME).order_by(verdicts.c.created_at)
    found = {r.verdict_id: r._asdict() for q in (by_id, by_time) for r in conn.execute(q.limit(limit))}
    return [found[k] for k in sorted(found)[:limit]]


_DECISION_COLUMNS = ("decision", "decided_by", "decided_at", "reason_code", "explanation", "allowed")


def _upsert_review_item(insert):
    stmt = insert(review_items)
    columns = ("verdict_id", "site_id", "comment_id", "article_id", "author_id", "model_action", "risk", "labels",
               "verdict_at")
    # The service judges unchanged text again now and then (new ids, a stance once the article is known,
    # Coral's author rules): that new verdict is no edit, and the moderator's decision on the text stands.
    # (SQLAlchemy correlates no subquery in ON CONFLICT's SET: this one names no table of the statement.)
    same_text = review_items.c.verdict_id.in_(sa.select(verdicts.c.id).where(
        verdicts.c.comment_pk == _P("same_comment_pk"), verdicts.c.text_sha256 == _P("text_sha256")))
    kept = sa.and_(same_text, review_items.c.decision.is_not(None))
    return stmt.on_conflict_do_update(index_elements=["comment_pk"], set_={
        **{c: getattr(stmt.excluded, c) for c in columns}, "search_text": None,  # its verdict's text: filled anew
        **{c: sa.case((kept, getattr(review_items.c, c)), else_=getattr(stmt.excluded, c))
           for c in ("queue", *_DECISION_COLUMNS)}}, where=review_items.c.verdict_id < stmt.excluded.verdict_id)


_UPSERT_REVIEW_ITEM = _per_dialect(_upsert_review_item)


def upsert_review_items(conn, items: list[dict]) -> None:
    """Put comments in their queues; a newer verdict replaces an older one, and for an edit (other text) the
    moderator's decision too: a decided comment judged again with the same text (its verdict's ``text_sha256``
    in the item) keeps its decision and queue."""
    for item in items:
        _run(conn, _UPSERT_REVIEW_ITEM, {**dict.fromkeys(_DECISION_COLUMNS), "text_sha256": None, **item,
                                         "same_comment_pk": item["comment_pk"]})


# An item's text is its verdict's, the text the model judged and the card shows (the comment's may be newer).
_ITEM_COLUMNS = (review_items, verdicts.c.text, comments.c.parent_id, verdicts.c.version, verdicts.c.reasons,
                 verdicts.c.scores, verdicts.c.stance, verdicts.c.stance_scores, verdicts.c.language,
                 verdicts.c.fallback, verdicts.c.model_version, verdicts.c.policy_version)
_ITEMS = (sa.select(*_ITEM_COLUMNS).join(comments, comments.c.id == review_items.c.comment_pk)
          .join(verdicts, verdicts.c.id == review_items.c.verdict_id))


_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")


def _filtered(query, filters: dict):
    """``query`` narrowed by site, article, author and label; a search (``q``) narrows it to candidates only
    (see :func:`review_search`): the items whose text as the card shows it (``search_text``; the stored text
    until a sync has filled it in) holds every ASCII word of the search."""
    for column in ("site_id", "article_id", "author_id"):
        if filters.get(column):
            query = query.where(getattr(review_items.c, column) == filters[column])
    if filters.get("label"):
        query = query.where(review_items.c.labels.contains(f",{filters['label']},", autoescape=True))
    shown = sa.func.coalesce(review_items.c.search_text, sa.func.lower(comments.c.text))
    for word in _ASCII_WORD.findall(filters.get("q") or ""):
        query = query.where(shown.contains(word.lower(), autoescape=True))
    return query


def review_search(conn, filters: dict, limit: int) -> list[dict]:
    """Candidates for a text search (``filters["q"]``), newest first: the id, queue, risk, time and text of the
    comments, in any queue and under the other filters, whose text holds every ASCII word of the search in
    any case.

    SQL neither reads HTML as a moderator reads it (a phrase split by a tag) nor, on SQLite, folds non-ASCII
    capitals: the caller keeps the candidates whose readable text contains the search (``review.search``).
    """
    query = sa.select(review_items.c.id, review_items.c.queue, review_items.c.risk, review_items.c.verdict_at,
                      review_items.c.search_text, verdicts.c.text).select_from(
        review_items.join(comments, comments.c.id == review_items.c.comment_pk)
        .join(verdicts, verdicts.c.id == review_items.c.verdict_id))
    query = _filtered(query, filters).order_by(review_items.c.verdict_at.desc(), review_items.c.id.desc())
    return [r._asdict() for r in conn.execute(query.limit(limit))]


def items_to_index(conn, limit: int) -> list[dict]:
    """Up to ``limit`` review items whose ``search_text`` is not filled in yet: their id, verdict id and verdict
    text (an index holds exactly those items)."""
    query = (sa.select(review_items.c.id, review_items.c.verdict_id, verdicts.c.text)
             .join(verdicts, verdicts.c.id == review_items.c.verdict_id)
             .where(review_items.c.search_text.is_(None)).order_by(review_items.c.id.desc()).limit(limit))
    return [r._asdict() for r in conn.execute(query)]


def set_search_texts(conn, texts: list[tuple[int, int, str]]) -> None:
    """Fill in review items' ``search_text``: (item id, the verdict id whose text it is, the text). An item whose
    verdict changed since its text was read (another worker syncing an edit), or that is filled in already, is
    left as it is: the text read belongs to the verdict read."""
    if texts:
        conn.execute(sa.update(review_items).where(review_items.c.id == sa.bindparam("item_id"),
                                                   review_items.c.verdict_id == sa.bindparam("read_verdict"),
                                                   review_items.c.search_text.is_(None))
                     .values(search_text=sa.bindparam("shown")),
                     [{"item_id": i, "read_verdict": v, "shown": t} for i, v, t in texts])


def queue_key_columns(order: str) -> tuple:
    """The columns a queue is sorted by, descending: risk (for ``order="risk"``), time and row id (unique)."""
    return ((review_items.c.risk,) if order == "risk" else ()) + (review_items.c.verdict_at, review_items.c.id)


def queue_key(item: dict, order: str) -> tuple:
    """An item's values of :func:`queue_key_columns`: where it stands in the queue's order."""
    return row_key(item, queue_key_columns(order))


def row_key(row: dict, columns: tuple) -> tuple:
    """A row's values of ``columns``: where it stands in a list sorted by them (:func:`_page`)."""
    return tuple(row[column.name] for column in columns)


def review_queue(conn, queue: str, filters: dict, order: str = "newest", limit: int = 25, offset: int = 0, *,
                 after: tuple | None = None, before: tuple | None = None) -> list[dict]:
    """One page of a queue, newest or highest-risk first, with each comment and its verdict (filters: site,
    article, author, label; a text search is :func:`review_search`).

    ``after``: the sort key (:func:`queue_key_columns`' values) of the last item a page showed: the page after it,
    whatever was added or decided since; ``before``: the first item's, for the page before it (in order)."""
    query = _filtered(_ITEMS.where(review_items.c.queue == queue), filters)
    return _page(conn, query, queue_key_columns(order), limit, offset, after, before)


def _page(conn, query, columns: tuple, limit: int, offset: int, after: tuple | None, before: tuple | None) -> list[dict]:
    """One page of ``query``'s rows in descending order of ``columns`` (the last one unique): the ``limit`` rows
    after the first ``offset``, or those after the row whose values of ``columns`` are ``after``, or, still in
    descending order, the ``limit`` rows just before the row whose values are ``before``. A page so placed
    follows the row the page before ended on, whatever was added or removed since."""
    if before is not None:
        query = query.where(sa.tuple_(*columns) > sa.tuple_(*before)).order_by(*(c.asc() for c in columns))
        return [r._asdict() for r in conn.execute(query.limit(limit))][::-1]
    if after is not None:
        query = query.where(sa.tuple_(*columns) < sa.tuple_(*after))
    query = query.order_by(*(c.desc() for c in columns)).limit(limit).offset(offset)
    return [r._asdict() for r in conn.execute(query)]


# The order of My decisions, an author's comments, the audit log and the deliveries, as :func:`_page` takes it.
DECIDED_KEY = (review_items.c.decided_at, review_items.c.id)
AUTHOR_KEY = (review_items.c.verdict_at, review_items.c.id)
AUDIT_KEY = (audit_log.c.id,)
CALLBACK_KEY = (outbox.c.id,)


def decided_by(conn, user: str, limit: int = 25, offset: int = 0, *, after: tuple | None = None,
               before: tuple | None = None) -> list[dict]:
    """One page of the comments whose decision now in force is ``user``'s, the most recently decided first
    (``after``, ``before``: see :func:`_page`)."""
    return _page(conn, _ITEMS.where(review_items.c.decided_by == user), DECIDED_KEY, limit, offset, after, before)


def decided_by_count(conn, user: str) -> int:
    """How many comments' decisions in force are ``user``'s."""
    return conn.execute(sa.select(sa.func.count()).select_from(review_items)
                        .where(review_items.c.decided_by == user)).scalar_one()


def review_counts(conn, filters: dict) -> dict[str, int]:
    """How many comments each queue holds under these filters (site, article, author, label)."""
    query = sa.select(review_items.c.queue, sa.func.count()).select_from(
        review_items.join(comments, comments.c.id == review_items.c.comment_pk))
    rows = conn.execute(_filtered(query, filters).group_by(review_items.c.queue))
    return {queue: 0 for queue in QUEUES} | {q: n for q, n in rows}


def review_items_by_id(conn, item_ids) -> dict[int, dict]:
    """Review items (with comment and verdict) by their row ids."""
    ids = sorted({int(i) for i in item_ids})
    if not ids:
        return {}
    return {r.id: r._asdict() for r in conn.execute(_ITEMS.where(review_items.c.id.in_(ids)))}


def review_item(conn, site_id: str, comment_id: str) -> dict | None:
    """One comment's review item."""
    row = conn.execute(_ITEMS.where(review_items.c.site_id == site_id,
                                    review_items.c.comment_id == comment_id)).first()
    return row._asdict() if row else None


def author_known(conn, site_id: str, author_id: str) -> bool:
    """Whether the service has a record of, or a comment by, this author on this site."""
    return any(conn.execute(sa.select(sa.literal(1)).where(table.c.site_id == site_id, table.c.author_id == author_id)
                            .limit(1)).first() for table in (authors, review_items, comments))


def author_items(conn, site_id: str, author_id: str, limit: int = 50, offset: int = 0, *, after: tuple | None = None,
                 before: tuple | None = None) -> list[dict]:
    """An author's comments in the queue, newest first (``limit`` of them, after the first ``offset``, or placed
    by ``after`` or ``before``: see :func:`_page`)."""
    query = _ITEMS.where(review_items.c.site_id == site_id, review_items.c.author_id == author_id)
    return _page(conn, query, AUTHOR_KEY, limit, offset, after, before)


def author_history(conn, site_id: str, author_ids) -> dict[str, dict[str, int]]:
    """Per author: how many of their comments sit in each queue."""
    ids = sorted({a for a in author_ids if a})
    if not ids:
        return {}
    query = (sa.select(review_items.c.author_id, review_items.c.queue, sa.func.count())
             .where(review_items.c.site_id == site_id, review_items.c.author_id.in_(ids))
             .group_by(review_items.c.author_id, review_items.c.queue))
    history: dict[str, dict[str, int]] = {a: dict.fromkeys(QUEUES, 0) for a in ids}
    for author_id, queue, n in conn.execute(query):
        history[author_id][queue] = n
    return history


def review_item_for_update(conn, item_id: int) -> dict | None:
    """One review item (with comment and verdict), read in a write transaction and locked until it ends, so
    two decisions on one comment are made one after the other (SQLite's writer lock already does that)."""
    row = conn.execute(_ITEMS.where(review_items.c.id == item_id).with_for_update(of=review_items)).first()
    return row._asdict() if row else None


def newest_verdict_id(conn, comment_pk: int) -> int | None:
    """The id of a stored comment's newest verdict: newer than its review item's when an edit was judged after
    the queue was last brought up to date."""
    return conn.execute(sa.select(sa.func.max(verdicts.c.id)).where(verdicts.c.comment_pk == comment_pk)).scalar()


def decide_review_item(conn, item_id: int, verdict_id: int, decision: str, user: str, reason_code: str | None,
                       explanation: str | None, at: datetime | None = None, allowed: str | None = None) -> bool:
    """Record a moderator's decision (made ``at``, by default now; ``allowed``: an approval's policy labels the
    comment still has, comma-separated); False when the comment changed (a newer verdict) meanwhile."""
    result = conn.execute(sa.update(review_items).where(
        review_items.c.id == item_id, review_items.c.verdict_id == verdict_id).values(
        queue="approved" if decision == "approve" else "rejected", decision=decision, decided_by=user,
        decided_at=at or now(), reason_code=reason_code, explanation=explanation, allowed=allowed))
    return result.rowcount == 1


def _set_author_status(insert):
    stmt = insert(authors)
    return stmt.on_conflict_do_update(index_elements=["site_id", "author_id"], set_={
        "status": stmt.excluded.status, "updated_at": stmt.excluded.updated_at})


_SET_AUTHOR_STATUS = _per_dialect(_set_author_status)


def set_author_status(conn, site_id: str, author_id: str, status: str) -> None:
    """Block, pre-moderate or restore an author (active | premod | blocked)."""
    _run(conn, _SET_AUTHOR_STATUS, {"site_id": site_id, "author_id": author_id, "strikes": 0, "status": status,
                                    "updated_at": now()})


def clear_strikes(conn, site_id: str, author_id: str) -> None:
    """Forgive all of an author's strikes (a moderator restored them)."""
    conn.execute(sa.update(authors).where(authors.c.site_id == site_id, authors.c.author_id == author_id)
                 .values(strikes=0, updated_at=now()))


def list_audit(conn, limit: int = 100, offset: int = 0, actor: str | None = None, subject: str | None = None,
               hidden: tuple[str, ...] = (), *, after: tuple | None = None, before: tuple | None = None) -> list[dict]:
    """Audit lines, newest first, leaving out the ``hidden`` events (failed sign-ins, for a moderator); ``after``
    and ``before`` (a line's ``(id,)``) place the page: see :func:`_page`."""
    query = sa.select(audit_log)
    if actor:
        query = query.where(audit_log.c.actor == actor)
    if subject:
        query = query.where(audit_log.c.subject == subject)
    if hidden:
        query = query.where(audit_log.c.event.not_in(hidden))
    return _page(conn, query, AUDIT_KEY, limit, offset, after, before)


_AUDIT_FROM = sa.select(audit_log.c.id, audit_log.c.at).where(audit_log.c.id >= _P("id")).order_by(
    audit_log.c.id).limit(1)


def audit_since(conn, event_name: str, since: datetime) -> list[dict]:
    """Audit lines of one event written at or after ``since``, oldest first (sign-in failures, to throttle them)."""
    first = _first_audit_id_since(conn, since)
    if first is None:
        return []
    query = sa.select(audit_log).where(audit_log.c.id >= first, audit_log.c.event == event_name,
                                       audit_log.c.at >= since).order_by(audit_log.c.id)
    return [r._asdict() for r in conn.execute(query)]


def _first_audit_id_since(conn, since: datetime) -> int | None:
    """Where the audit lines written at or after ``since`` begin; None when there are none.

    The log has no index on time, but its ids grow with time: a binary search over the primary key finds
    the first such line in a few lookups, where a condition on time alone would read the whole log.
    """
    last = conn.execute(sa.select(audit_log.c.id, audit_log.c.at).order_by(audit_log.c.id.desc()).limit(1)).first()
    if last is None or last.at < since:
        return None
    low, high = 0, last.id  # every line up to low is older than since; the first line from high on is not
    while high - low > 1:
        middle = (low + high) // 2
        line = conn.execute(_AUDIT_FROM, {"id": middle}).first()  # there is one: the first from high on, or earlier
        if line.at >= since:
            high = middle
        else:
            low = line.id
    return high


# Outbox (version 2) -------------------------------------------------------------------------------
def enqueue_callback(conn, delivery_id: str, site_id: str, event_name: str, payload: dict) -> None:
    """Queue a callback to the CMS in the caller's transaction, due now."""
    stamp = now()
    conn.execute(sa.insert(outbox).values(delivery_id=delivery_id, site_id=site_id, event=event_name,
                                          payload=payload, status="pending", attempts=0, next_attempt_at=stamp,
                                          created_at=stamp))


# The payload key naming what a callback is about; callbacks about one subject reach the CMS in order.
_CALLBACK_SUBJECT = {"comment.decision": "comment_id", "author.status": "author_id"}


def _callback_subject(table) -> sa.ColumnElement:
    return sa.case(*((table.c.event == event, table.c.payload[key].as_string())
                     for event, key in _CALLBACK_SUBJECT.items()), else_=sa.cast(table.c.id, sa.String))


def _first_pending_callbacks() -> sa.Select:
    """The id of each subject's earliest pending callback: only that one may be sent (a given-up one is not
    pending, so it holds none back). One pass over the pending rows, with no index on the payload."""
    pending = outbox.alias("pending")  # not the outer query's row
    return (sa.select(sa.func.min(pending.c.id)).where(pending.c.status == "pending")
            .group_by(pending.c.site_id, pending.c.event, _callback_subject(pending)))


def due_callbacks(conn, at: datetime, limit: int = 50) -> list[dict]:
    """Pending callbacks whose next attempt is due and that no earlier pending callback holds back, oldest first."""
    query = (sa.select(outbox).where(outbox.c.status == "pending", outbox.c.next_attempt_at <= at,
                                     outbox.c.id.in_(_first_pending_callbacks()))
             .order_by(outbox.c.next_attempt_at, outbox.c.id).limit(limit))
    return [r._asdict() for r in conn.execute(query)]


def claim_callback(conn, outbox_id: int, seen_next_attempt: datetime, lease_until: datetime) -> bool:
    """Take a due callback for one sender: push its next attempt past the lease; False if another took it or an
    earlier callback about its subject is pending again (an admin resent it) since it was read."""
    result = conn.execute(sa.update(outbox).where(
        outbox.c.id == outbox_id, outbox.c.status == "pending", outbox.c.next_attempt_at == seen_next_attempt,
        outbox.c.id.in_(_first_pending_callbacks())).values(next_attempt_at=lease_until))
    return result.rowcount == 1


def _leased(outbox_id: int, lease_until: datetime) -> sa.ColumnElement:
    """The callback is still pending under the lease its sender took (``claim_callback``'s ``lease_until``)."""
    return sa.and_(outbox.c.id == outbox_id, outbox.c.status == "pending", outbox.c.next_attempt_at == lease_until)


def callback_delivered(conn, outbox_id: int, status_code: int, lease_until: datetime) -> bool:
    """Mark a callback delivered; False (nothing written) when its sender's lease ran out and another took it,
    or an admin changed it, meanwhile."""
    result = conn.execute(sa.update(outbox).where(_leased(outbox_id, lease_until)).values(
        status="delivered", attempts=outbox.c.attempts + 1, last_status=status_code, last_error=None,
        delivered_at=now()))
    return result.rowcount == 1


def callback_failed(conn, outbox_id: int, status_code: int | None, error: str, next_attempt_at: datetime | None,
                    lease_until: datetime) -> bool:
    """Count a failed attempt; with no next attempt the callback is given up (status failed). False (nothing
    written) when the sender's lease ran out and another took the callback, or an admin changed it, meanwhile."""
    values = {"attempts": outbox.c.attempts + 1, "last_status": status_code, "last_error": error[:2000]}
    if next_attempt_at is None:
        values["status"] = "failed"
    else:
        values["next_attempt_at"] = next_attempt_at
    result = conn.execute(sa.update(outbox).where(_leased(outbox_id, lease_until)).values(**values))
    return result.rowcount == 1


def retry_callback(conn, outbox_id: int) -> bool:
    """Send a given-up (failed) callback again, now; False when there is no failed callback of that id."""
    result = conn.execute(sa.update(outbox).where(outbox.c.id == outbox_id, outbox.c.status == "failed")
                          .values(status="pending", next_attempt_at=now()))
    return result.rowcount == 1


def retry_failed_callbacks(conn) -> int:
    """Send every given-up (failed) callback again, now; how many. All due at one moment, they are sent in
    id order (the order they were made), each after any earlier pending one about its subject."""
    result = conn.execute(sa.update(outbox).where(outbox.c.status == "failed")
                          .values(status="pending", next_attempt_at=now()))
    return result.rowcount


def list_callbacks(conn, status: str | None = None, limit: int = 100, offset: int = 0, *, after: tuple | None = None,
                   before: tuple | None = None) -> list[dict]:
    """Callbacks, newest first; ``after`` and ``before`` (a callback's ``(id,)``) place the page: see :func:`_page`."""
    query = sa.select(outbox)
    if status:
        query = query.where(outbox.c.status == status)
    return _page(conn, query, CALLBACK_KEY, limit, offset, after, before)


def callback_counts(conn) -> dict[str, int]:
    rows = conn.execute(sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status))
    return {"pending": 0, "delivered": 0, "failed": 0} | {s: n for s, n in rows}
