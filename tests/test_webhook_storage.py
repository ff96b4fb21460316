"""Storage on SQLite and PostgreSQL: schema, migrations, every query, and concurrent writers."""

import secrets
import threading

import pytest
import sqlalchemy as sa

from webhook import db
from webhook.service import CommentIn, moderate

from .webhook_helpers import ATTACK

pytest_plugins = ["tests.webhook_fixtures"]

TABLES = {"schema_version", "articles", "authors", "comments", "verdicts", "labels", "coral_events", "audit_log"}
LABELS_INDEXES = {"ix_labels_comment_ref", "ix_labels_no_ref"}


@pytest.fixture
def engine(database_url):
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


def _verdict(action="hold"):
    return {"action": action, "reasons": [{"clause_id": "c", "evidence": [{"begin": 0, "end": 3}]}],
            "scores": {"personal_attack": 0.5}, "stance": None, "stance_scores": None, "language": "en",
            "fallback": None, "model_version": "m1", "policy_version": "p@1"}


def _label_indexes(engine) -> set[str]:
    return {i["name"] for i in sa.inspect(engine).get_indexes("labels")}


def test_an_empty_database_gets_the_whole_schema(engine):
    assert db.migrate(engine) == 0
    assert set(sa.inspect(engine).get_table_names()) >= TABLES
    assert _label_indexes(engine) >= LABELS_INDEXES
    with db.connect(engine) as conn:
        assert db.schema_version(conn) == db.SCHEMA_VERSION
    assert db.migrate(engine) == db.SCHEMA_VERSION, "a second run changes nothing"


def test_pending_migrations_run_once_in_order_and_are_recorded(engine, monkeypatch):
    db.migrate(engine)

    def add_flag(conn):
        """Authors get a moderator note."""
        conn.execute(sa.text("ALTER TABLE authors ADD COLUMN note TEXT"))

    monkeypatch.setattr(db, "SCHEMA_VERSION", db.SCHEMA_VERSION + 1)
    monkeypatch.setitem(db.MIGRATIONS, db.SCHEMA_VERSION, add_flag)
    assert db.migrate(engine) == db.SCHEMA_VERSION - 1
    assert db.migrate(engine) == db.SCHEMA_VERSION
    assert "note" in {c["name"] for c in sa.inspect(engine).get_columns("authors")}
    with db.connect(engine) as conn:
        rows = conn.execute(sa.select(db.schema_versions).order_by(db.schema_versions.c.version)).all()
    assert [r.version for r in rows] == [db.SCHEMA_VERSION - 1, db.SCHEMA_VERSION]
    assert rows[-1].description == "Authors get a moderator note."


def test_a_database_newer_than_the_code_is_refused(engine, monkeypatch):
    db.migrate(engine)
    monkeypatch.setattr(db, "SCHEMA_VERSION", db.SCHEMA_VERSION - 1)
    with pytest.raises(RuntimeError, match="newer than this code"):
        db.migrate(engine)


def test_a_version_2_database_gets_its_labels_indexed_and_keeps_them(engine):
    long_ref = "comment:" + secrets.token_urlsafe(6000)
    db.migrate(engine)
    with db.transaction(engine) as conn:  # as version 2 left it: labels without an index
        for name in LABELS_INDEXES:
            conn.execute(sa.text(f"DROP INDEX {name}"))
        conn.execute(sa.text("ALTER TABLE comments DROP COLUMN struck"))
        conn.execute(sa.text("DROP INDEX ix_review_items_decider"))  # version 5's
        conn.execute(sa.text("ALTER TABLE users DROP COLUMN signed_out_at"))  # version 6's
        conn.execute(sa.text("DROP INDEX ix_verdicts_created_at"))  # version 7's
        conn.execute(sa.text("ALTER TABLE verdicts DROP COLUMN revision"))  # version 8's
        conn.execute(sa.text("ALTER TABLE review_items DROP COLUMN allowed"))  # version 9's
        conn.execute(sa.text("DROP INDEX ix_review_items_unindexed"))  # version 10's
        conn.execute(sa.text("ALTER TABLE review_items DROP COLUMN search_text"))
        conn.execute(sa.delete(db.schema_versions))
        conn.execute(sa.insert(db.schema_versions).values(version=2, description="v2", applied_at=db.now()))
        db.insert_label(conn, "s", "c1", "t", "toxicity", 1.0, "test", {})
        # Refs were unbounded before version 3: a btree entry this long (about 6 kB after compression)
        # would make PostgreSQL refuse the index, and with it the service's start.
        db.insert_label(conn, "s", long_ref, "t", "toxicity", 1.0, "test", {})
    assert not LABELS_INDEXES & _label_indexes(engine)
    assert db.migrate(engine) == 2
    assert _label_indexes(engine) >= LABELS_INDEXES
    with db.connect(engine) as conn:
        assert db.schema_version(conn) == db.SCHEMA_VERSION == 10
        assert [label["label"] for label in db.labels_for(conn, "c1")] == ["toxicity"]
        assert [label["label"] for label in db.labels_for(conn, long_ref)] == ["toxicity"]
    assert "ix_review_items_decider" in {i["name"] for i in sa.inspect(engine).get_indexes("review_items")}
    assert "signed_out_at" in {c["name"] for c in sa.inspect(engine).get_columns("users")}
    assert "ix_verdicts_created_at" in {i["name"] for i in sa.inspect(engine).get_indexes("verdicts")}
    assert "revision" in {c["name"] for c in sa.inspect(engine).get_columns("verdicts")}
    assert {"allowed", "search_text"} <= {c["name"] for c in sa.inspect(engine).get_columns("review_items")}
    assert "ix_review_items_unindexed" in {i["name"] for i in sa.inspect(engine).get_indexes("review_items")}
    assert db.migrate(engine) == 10, "a second run changes nothing"


def _reject(label: str | None):
    """A rejection's verdict: on a policy label, or (None) on the author's record alone."""
    return {**_verdict("reject"), "reasons": [{"clause_id": "c", "action": "reject", "label": label}]}


def test_a_version_3_database_records_which_comments_count_a_strike(engine):
    db.migrate(engine)
    with db.transaction(engine) as conn:  # as version 3 left it: strikes counted per author only
        conn.execute(sa.text("ALTER TABLE comments DROP COLUMN struck"))
        conn.execute(sa.text("DROP INDEX ix_review_items_decider"))  # version 5's
        conn.execute(sa.delete(db.schema_versions))
        conn.execute(sa.insert(db.schema_versions).values(version=3, description="v3", applied_at=db.now()))
    cases = {  # comment: its verdicts, the moderator's decision on the latest, whether it now counts a strike
        "model-rejected": ([_reject("personal_attack")], None, True),
        "then-edited": ([_reject("personal_attack"), _verdict("approve")], None, True),
        "author-rule-only": ([_reject(None)], None, False),
        "moderator-rejected": ([_verdict("hold")], "reject", True),
        "moderator-approved": ([_reject("personal_attack")], "approve", False),
    }
    with db.transaction(engine) as conn:
        for comment_id, (versions, decision, _struck) in cases.items():
            pk = conn.execute(sa.insert(db.comments).values(
                site_id="s", comment_id=comment_id, author_id="u1", source="test", text="t", created_at=db.now(),
                updated_at=db.now()).returning(db.comments.c.id)).scalar_one()
            for version, verdict in enumerate(versions, 1):
                row = db.insert_verdict(conn, pk, version, "t", verdict)
            db.upsert_review_items(conn, [{
                "comment_pk": pk, "verdict_id": row["id"], "site_id": "s", "comment_id": comment_id,
                "article_id": None, "author_id": "u1", "model_action": row["action"], "queue": "pending",
                "risk": 0.5, "labels": ",", "verdict_at": db.now()}])
            if decision:
                item = db.review_item(conn, "s", comment_id)
                db.decide_review_item(conn, item["id"], row["id"], decision, "mod", None, None)
    assert db.migrate(engine) == 3
    with db.connect(engine) as conn:
        struck = dict(conn.execute(sa.select(db.comments.c.comment_id, db.comments.c.struck)).all())
    assert struck == {comment_id: expected for comment_id, (_v, _d, expected) in cases.items()}


def _index_search(conn, statement: str, parameters) -> str:
    """How the database would find a query's rows: SQLite's plan line, PostgreSQL's Index Cond line."""
    if conn.dialect.name == "sqlite":
        return " ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a table this small is read whole otherwise
    plan = [row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)]
    return " ".join(line.strip() for line in plan if any(name in line for name in LABELS_INDEXES) or "Index Cond" in line)


@pytest.mark.parametrize("comment_ref", ["comment:c1", None])
def test_resent_feedback_is_looked_up_in_the_labels_index(engine, comment_ref):
    """The duplicate check runs once per label, on SQLite with the write lock held: never a table scan."""
    db.migrate(engine)
    with db.transaction(engine) as conn:
        for i in range(50):
            db.insert_label(conn, "s", f"comment:c{i}", "t", "toxicity", 1.0, "test", {})
        db.insert_label(conn, "s", None, "t", "toxicity", 1.0, "test", {})
    lookups = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT") and "FROM labels" in statement:
            lookups.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        with db.transaction(engine) as conn:
            stored = db.insert_labels_once(conn, "s", comment_ref, "t", {"toxicity": 1.0, "threat": 0.0}, "test", {})
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    assert stored == {"threat": 0.0}
    assert len(lookups) == 2
    with db.transaction(engine) as conn:
        for statement, parameters in lookups:
            search = _index_search(conn, statement, parameters)
            wanted = "ix_labels_comment_ref" if comment_ref else "ix_labels_no_ref"
            assert wanted in search, search


def test_two_workers_starting_at_once_migrate_once(engine):
    errors = []

    def start():
        try:
            db.migrate(engine)
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.connect(engine) as conn:
        assert db.count(conn, "schema_version") == 1


def test_comments_and_verdict_versions_round_trip(engine):
    db.migrate(engine)
    with db.transaction(engine) as conn:
        pk = db.save_comment(conn, "s", "c1", "first", "a1", None, "u1", "api")
        stored = db.insert_verdict(conn, pk, 1, "first", _verdict("hold"))
        assert db.save_comment(conn, "s", "c1", "second", "a1", None, "u1", "api") == pk
        db.insert_verdict(conn, pk, 2, "second", _verdict("approve"))
    with db.connect(engine) as conn:
        latest = db.latest_verdicts(conn, "s", ["c1", "missing"])
        first = db.find_verdict(conn, "s", "c1", version=1)
        assert db.find_verdict(conn, "s", "c1", version=3) is None
        assert db.find_verdict(conn, "other-site", "c1") is None
        texts = db.comment_texts(conn, "s", ["c1", None])
    assert set(latest) == {"c1"} and latest["c1"]["version"] == 2 and latest["c1"]["action"] == "approve"
    assert first["reasons"] == stored["reasons"] and first["text_sha256"] == db.text_sha256("first")
    assert texts == {"c1": "second"}


def test_an_edit_saved_without_ids_keeps_the_stored_ones(engine):
    db.migrate(engine)
    with db.transaction(engine) as conn:
        first = db.store_comment(conn, "s", "c1", "first", "a1", "p0", "u1", "api")
        edit = db.store_comment(conn, "s", "c1", "second", None, None, None, "api")
        moved = db.store_comment(conn, "s", "c1", "third", "a2", None, None, "api")
    assert first == edit == {"id": first["id"], "article_id": "a1", "parent_id": "p0", "author_id": "u1"}
    assert moved == {**first, "article_id": "a2"}


def test_a_verdict_version_cannot_be_stored_twice(engine):
    db.migrate(engine)
    with pytest.raises(sa.exc.IntegrityError), db.transaction(engine) as conn:
        pk = db.save_comment(conn, "s", "c1", "t", None, None, None, "api")
        db.insert_verdict(conn, pk, 1, "t", _verdict())
        db.insert_verdict(conn, pk, 1, "t", _verdict())
    with db.connect(engine) as conn:
        assert db.count(conn, "comments") == 0, "the failed transaction left nothing behind"


def test_articles_keep_their_text_and_url(engine):
    db.migrate(engine)
    with db.transaction(engine) as conn:
        db.note_article(conn, "s", "a1", "https://example.org/a1", "coral")
        db.upsert_article(conn, "s", "a1", "Title", "Body", None, "api")
        db.note_article(conn, "s", "a1", "https://example.org/other", "coral")
    with db.connect(engine) as conn:
        article = db.articles_by_id(conn, "s", ["a1", "a2"])
    assert set(article) == {"a1"}
    assert (article["a1"]["title"], article["a1"]["body"], article["a1"]["url"]) == \
        ("Title", "Body", "https://example.org/a1")


def test_strikes_count_up(engine):
    db.migrate(engine)
    for _ in range(3):
        with db.transaction(engine) as conn:
            db.add_strike(conn, "s", "u1")
    with db.connect(engine) as conn:
        assert db.authors_by_id(conn, "s", ["u1", "u2"])["u1"]["strikes"] == 3


def test_coral_events_are_stored_once_and_labels_keep_their_provenance(engine):
    db.migrate(engine)
    with db.transaction(engine) as conn:
        assert db.insert_coral_event(conn, "e1", "STORY_CREATED", "t", {"id": "e1"}) is True
        assert db.insert_coral_event(conn, "e1", "STORY_CREATED", "t", {"id": "e1"}) is False
        db.insert_label(conn, "s", "ref", "text", "toxicity", 1.0, "test", {"why": ["nested", 1]})
        db.insert_audit(conn, "feedback", "s", "ref", {"n": 1})
    with db.connect(engine) as conn:
        assert db.labels_for(conn, "ref")[0]["provenance"] == {"why": ["nested", 1]}
        assert db.count(conn, "audit_log") == 1 and db.count(conn, "coral_events") == 1


def test_sqlite_runs_in_wal_mode(sqlite_url):
    engine = db.make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    engine.dispose()


def test_a_failed_statement_s_error_does_not_carry_its_parameters(engine):
    """Errors are logged: a reader's comment and author id must not travel in them."""
    db.migrate(engine)
    secret = "Call me on 0161 496 0000, 12 Acacia Avenue"
    with pytest.raises(sa.exc.SQLAlchemyError) as caught, db.transaction(engine) as conn:
        conn.execute(sa.text("SELECT * FROM no_such_table WHERE x = :text"), {"text": secret})
    assert secret not in str(caught.value) and "hidden due to hide_parameters" in str(caught.value)


def test_other_databases_are_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="unsupported database"):
        db.make_engine("mysql://localhost/x")


def test_concurrent_requests_for_one_comment_store_one_verdict(make_app, database_url):
    app = make_app(database_url)
    answers, errors = [], []
    barrier = threading.Barrier(4)

    def send(text):
        try:
            with app.app_context():
                barrier.wait()
                answers.append(moderate("default", [CommentIn("same", text, author_id="u")], source="api")[0])
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(ATTACK,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({(a["version"], a["created_at"]) for a in answers}) == 1
    with db.connect(app.extensions["moderation"].engine) as conn:
        assert db.count(conn, "verdicts") == 1
        assert db.authors_by_id(conn, "default", ["u"]).get("u", {"strikes": 0})["strikes"] <= 1


def test_sqlite_writers_queue_on_a_lock_file_not_on_sqlite_polling(tmp_path):
    """A SQLite write transaction holds an exclusive lock on <database>-writelock until it ends."""
    fcntl = pytest.importorskip("fcntl")
    import os

    path = tmp_path / "locked.sqlite"
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    lock = f"{path}-writelock"

    def free() -> bool:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
        finally:
            os.close(fd)

    assert free()
    with db.transaction(engine) as conn:
        db.note_article(conn, "site", "a1", "https://example.org/a1", "test")
        assert not free(), "another writer must wait while this transaction is open"
    assert free()
    with pytest.raises(RuntimeError), db.transaction(engine):
        assert not free()
        raise RuntimeError("rolled back")
    assert free(), "a rolled-back transaction releases the lock too"
    with db.connect(engine) as conn:  # readers never take it
        db.articles_by_id(conn, "site", ["a1"])
        assert free()
    engine.dispose()


def test_a_comment_stored_between_read_and_write_is_not_stored_again(make_app, database_url):
    """The write path's own check: when another worker stored the same text after our read, its row is kept."""
    from webhook.service import judge, record, service

    app = make_app(database_url)
    with app.app_context():
        svc = service()
        comment = CommentIn("raced", ATTACK, author_id="racer")
        [judgement] = judge(svc, svc.policy, "default", [comment], {}, {}, {})
        first = record(svc, "default", [judgement], "api")["raced"]
        again = record(svc, "default", [judgement], "api")["raced"]  # as if our read had come too early
        assert (again["version"], again["created_at"], again["action"]) == (first["version"], first["created_at"],
                                                                           first["action"])
        edited = record(svc, "default", judge(svc, svc.policy, "default", [CommentIn("raced", "Thanks, fair point.",
                                                                                     author_id="racer")],
                                              {}, {}, {}), "api")["raced"]
        assert edited["version"] == first["version"] + 1
        with db.connect(svc.engine) as conn:
            assert db.count(conn, "verdicts") == 2
            strikes = db.authors_by_id(conn, "default", ["racer"]).get("racer", {"strikes": 0})["strikes"]
            assert strikes == (1 if first["action"] == "reject" else 0), "the repeat must not strike twice"


def test_a_stale_head_from_the_read_phase_is_caught_by_the_version_constraint(make_app, database_url):
    """The write trusts the head read before scoring; a verdict stored since then fails its insert
    (same comment, same version) and the retry reads the head inside the write transaction."""
    from webhook.service import judge, record, service

    app = make_app(database_url)
    with app.app_context():
        svc = service()
        comment = CommentIn("stale", ATTACK, author_id="slow")
        [judgement] = judge(svc, svc.policy, "default", [comment], {}, {}, {})
        first = record(svc, "default", [judgement], "api", heads={"stale": None})["stale"]
        assert first["version"] == 1
        # Another worker's request for the same text read "no verdict yet" before ours was stored.
        again = record(svc, "default", [judgement], "api", heads={"stale": None})["stale"]
        assert (again["version"], again["created_at"]) == (first["version"], first["created_at"])
        # An edit whose read phase missed the first verdict still becomes version 2, not a second version 1.
        [edit] = judge(svc, svc.policy, "default", [CommentIn("stale", "Thanks, fair point.", author_id="slow")],
                       {}, {}, {})
        edited = record(svc, "default", [edit], "api", heads={"stale": None})["stale"]
        assert edited["version"] == 2 and edited["action"] == "approve"
        with db.connect(svc.engine) as conn:
            assert db.count(conn, "verdicts") == 2
            assert db.count(conn, "audit_log") == 2


def test_sqlite_checkpoints_run_after_the_write_lock_is_released(tmp_path, monkeypatch):
    """SQLite's own checkpoint is off; ours runs every CHECKPOINT_EVERY commits, outside the lock."""
    fcntl = pytest.importorskip("fcntl")
    import os

    path = tmp_path / "ckpt.sqlite"
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    monkeypatch.setattr(db, "CHECKPOINT_EVERY", 3)
    monkeypatch.setattr(db, "_commits", __import__("itertools").count(1))
    seen = []
    real = db.checkpoint

    def spy(eng):
        fd = os.open(f"{path}-writelock", os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if a writer still held the lock
            seen.append("free")
        finally:
            os.close(fd)
        real(eng)

    monkeypatch.setattr(db, "checkpoint", spy)
    with db.connect(engine) as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    for i in range(9):
        with db.transaction(engine) as conn:
            db.note_article(conn, "site", f"a{i}", None, "test")
    assert seen == ["free"] * 3
    raw = engine.raw_connection()
    try:  # everything committed is in the database file: a further checkpoint has nothing left to copy
        busy, log, done = raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        raw.close()
    assert busy == 0 and log == done
    with db.connect(engine) as conn:
        assert db.count(conn, "articles") == 9
    engine.dispose()


def test_a_late_retry_of_a_text_edited_since_is_answered_with_the_edit_s_verdict(make_app, database_url):
    """With the CMS's own revision of each comment, a retry of the first text that arrives after the edit cannot
    undo it: the stored (newer) verdict answers, and nothing is stored. Without revisions it is an edit back."""
    from .webhook_helpers import signed_post

    client = make_app(database_url).test_client()

    def send(text, revision=None, comment_id="r1"):
        body = {"id": comment_id, "text": text, "author_id": "u"} | ({} if revision is None else {"revision": revision})
        response = signed_post(client, "/v1/comments", body)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    first = send(ATTACK, 1)
    edited = send("Thanks, fair point.", 2)
    assert (first["version"], first["revision"], edited["version"], edited["revision"]) == (1, 1, 2, 2)
    late = send(ATTACK, 1)
    assert (late["version"], late["revision"], late["action"]) == (2, 2, edited["action"])
    assert send("Thanks, fair point.", 2)["version"] == 2, "a repeat of the edit is the edit"
    back = send(ATTACK, 3)
    assert (back["version"], back["revision"]) == (3, 3), "an edit back to the first text, later: judged again"
    with db.connect(client.application.extensions["moderation"].engine) as conn:
        assert db.count(conn, "verdicts") == 3
    # Without revisions the service cannot tell a late retry from an edit back (docs/connecting.md says so).
    send(ATTACK, comment_id="r2")
    send("Thanks, fair point.", comment_id="r2")
    assert send(ATTACK, comment_id="r2")["version"] == 3


@pytest.mark.parametrize("revision", [-1, "2", 1.5, True])
def test_a_revision_that_is_not_a_count_is_refused_naming_it(make_app, revision):
    from .webhook_helpers import signed_post

    client = make_app().test_client()
    response = signed_post(client, "/v1/comments", {"id": "r", "text": "hi", "revision": revision})
    assert response.status_code == 422 and response.get_json()["error"]["field"] == "revision"


def test_an_older_revision_whose_read_missed_the_newer_one_is_not_stored(make_app, database_url):
    """The write path's own check: a request read "no verdict yet", and an edit with a later revision was stored
    before its write: the write finds the newer verdict (the version constraint sends it back to read) and keeps it."""
    from webhook.service import judge, record, service

    app = make_app(database_url)
    with app.app_context():
        svc = service()
        newer = judge(svc, svc.policy, "default", [CommentIn("rev", "Thanks, fair point.", author_id="u", revision=5)],
                      {}, {}, {})
        stored = record(svc, "default", newer, "api")["rev"]
        older = judge(svc, svc.policy, "default", [CommentIn("rev", ATTACK, author_id="u", revision=4)], {}, {}, {})
        answer = record(svc, "default", older, "api", heads={"rev": None})["rev"]
        assert (answer["version"], answer["revision"], answer["created_at"]) == (1, 5, stored["created_at"])
        with db.connect(svc.engine) as conn:
            assert db.count(conn, "verdicts") == 1


_REJECTED = "Shut up, you fucking moron."


@pytest.mark.parametrize(("second_text", "strikes"), [(_REJECTED, {"u1": 0, "u2": 1}),
                                                      ("Thanks, fair point.", {"u1": 0, "u2": 0})])
def test_a_comment_sent_under_another_author_takes_its_strike_with_it(make_app, database_url, second_text, strikes):
    """The strike a rejected comment counts is its author's: sent again under another author (the CMS merged or
    corrected an account), the first author's strike is taken back, and the new verdict strikes the new author."""
    from .webhook_helpers import signed_post

    client = make_app(database_url).test_client()
    engine = client.application.extensions["moderation"].engine

    def counts():
        with db.connect(engine) as conn:
            found = db.authors_by_id(conn, "default", ["u1", "u2"])
        return {a: found.get(a, {"strikes": 0})["strikes"] for a in ("u1", "u2")}

    first = signed_post(client, "/v1/comments", {"id": "m1", "text": _REJECTED, "author_id": "u1"}).get_json()
    assert first["action"] == "reject" and counts() == {"u1": 1, "u2": 0}
    for _ in range(2):  # the second send repeats the first: nothing moves again
        answer = signed_post(client, "/v1/comments", {"id": "m1", "text": second_text, "author_id": "u2"}).get_json()
        assert answer["author_id"] == "u2"
        assert counts() == strikes
