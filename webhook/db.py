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
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

__all__ = [
    "MIGRATIONS",
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

SCHEMA_VERSION = 1
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
    sa.UniqueConstraint("comment_pk", "version", name="uq_verdicts_comment_version"),
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
)

MIGRATIONS: dict = {}
"""``MIGRATIONS[n](conn)`` alters a version ``n - 1`` database to version ``n``."""


# Engines and transactions -------------------------------------------------------------------------
def make_engine(url: str) -> sa.Engine:
    """An engine for a SQLite or PostgreSQL URL, set up for concurrent gunicorn workers."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return sa.create_engine(parsed, pool_pre_ping=True)
    raise ValueError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql+psycopg://")


def _sqlite_connect(dbapi_conn, _record) -> None:
    # We issue BEGIN ourselves (below); WAL lets readers run while a worker writes, and
    # synchronous=FULL makes each commit durable before the answer goes out.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
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


@contextmanager
def transaction(engine: sa.Engine):
    """A write transaction, committed (durably) when the block ends without an error."""
    with engine.connect() as conn:
        conn.execution_options(write=True)
        with conn.begin():
            yield conn


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
    """Create or upgrade the schema to :data:`SCHEMA_VERSION`; return the version found before."""
    with transaction(engine) as conn:
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
    return {r.article_id: r._asdict() for r in conn.execute(_ARTICLES, {"site_id": site_id, "ids": ids})}


def upsert_article(conn, site_id: str, article_id: str, title: str, body: str, url: str | None,
                   source: str) -> dict:
    """Register an article's text, or replace it (keeping a stored URL when none is given)."""
    stamp = now()
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
    return {r.author_id: r._asdict() for r in conn.execute(_AUTHORS, {"site_id": site_id, "ids": ids})}


def add_strike(conn, site_id: str, author_id: str) -> None:
    """Count one more rejected comment against an author."""
    _run(conn, _ADD_STRIKE, {"site_id": site_id, "author_id": author_id, "strikes": 1, "status": "active",
                             "updated_at": now()})


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


def _save_comment(insert):
    stmt = insert(comments)
    return stmt.on_conflict_do_update(index_elements=["site_id", "comment_id"], set_={
        name: getattr(stmt.excluded, name) for name in ("text", "article_id", "parent_id", "author_id",
                                                        "updated_at")}).returning(comments.c.id)


_SAVE_COMMENT = _per_dialect(_save_comment)


def latest_verdicts(conn, site_id: str, comment_ids) -> dict[str, dict]:
    """The latest stored verdict of each listed comment that has one."""
    ids = sorted(set(comment_ids))
    if not ids:
        return {}
    latest: dict[str, dict] = {}
    for row in conn.execute(_LATEST, {"site_id": site_id, "ids": ids}):
        latest.setdefault(row.comment_id, row._asdict())
    return latest


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


def save_comment(conn, site_id: str, comment_id: str, text: str, article_id: str | None,
                 parent_id: str | None, author_id: str | None, source: str) -> int:
    """Insert a comment or record its edit; return its row id."""
    stamp = now()
    return _run(conn, _SAVE_COMMENT, {
        "site_id": site_id, "comment_id": comment_id, "text": text, "article_id": article_id,
        "parent_id": parent_id, "author_id": author_id, "source": source, "created_at": stamp,
        "updated_at": stamp}).scalar_one()


def insert_verdict(conn, comment_pk: int, version: int, text: str, verdict: dict) -> dict:
    """Store one version of a comment's verdict; return the stored row."""
    values = {
        "comment_pk": comment_pk, "version": version, "text": text, "text_sha256": text_sha256(text),
        "action": verdict["action"], "reasons": verdict["reasons"], "scores": verdict.get("scores"),
        "stance": verdict.get("stance"), "stance_scores": verdict.get("stance_scores"),
        "language": verdict.get("language"), "fallback": verdict.get("fallback"),
        "model_version": verdict["model_version"], "policy_version": verdict["policy_version"],
        "created_at": now()}
    values["id"] = conn.execute(_INSERT_VERDICT, values).scalar_one()
    return values


# Labels, Coral events, audit ----------------------------------------------------------------------
_INSERT_LABEL = sa.insert(labels)
_INSERT_EVENT = _per_dialect(lambda insert: insert(coral_events).on_conflict_do_nothing(
    index_elements=["event_id"]).returning(coral_events.c.event_id))
_INSERT_AUDIT = sa.insert(audit_log)


def insert_label(conn, site_id: str, comment_ref: str | None, text: str | None, label: str, value: float,
                 source: str, provenance: dict) -> None:
    """Store one feedback label (a moderator's decision or a suggested score)."""
    conn.execute(_INSERT_LABEL, {"site_id": site_id, "comment_ref": comment_ref, "text": text, "label": label,
                                 "value": value, "source": source, "provenance": provenance, "created_at": now()})


def insert_coral_event(conn, event_id: str, event_type: str, tenant_id: str | None, payload: dict) -> bool:
    """Store a Coral webhook event; False when it was already stored (Coral re-delivered it)."""
    result = _run(conn, _INSERT_EVENT, {"event_id": event_id, "type": event_type, "tenant_id": tenant_id,
                                        "payload": payload, "received_at": now()})
    return result.first() is not None  # nothing comes back when the id was already there


def insert_audit(conn, event_name: str, site_id: str | None, subject: str | None, detail: dict) -> None:
    """Append one line to the audit log."""
    conn.execute(_INSERT_AUDIT, {"at": now(), "event": event_name, "site_id": site_id, "subject": subject,
                                 "detail": detail})


def labels_for(conn, comment_ref: str) -> list[dict]:
    """Feedback labels stored for one comment reference, oldest first."""
    rows = conn.execute(sa.select(labels).where(labels.c.comment_ref == comment_ref).order_by(labels.c.id))
    return [r._asdict() for r in rows]


def count(conn, table_name: str) -> int:
    """Rows in one of the service's tables."""
    table = metadata.tables[table_name]
    return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
