"""Schema version 2 (the review queue): a version 1 database is migrated in place, its data kept."""

import pytest
import sqlalchemy as sa

from review.auth import create_user
from review.queue import sync
from webhook import db

pytest_plugins = ["tests.webhook_fixtures", "tests.review_fixtures"]

_NEW_TABLES = {"users", "review_items", "outbox"}
_NEW_COLUMNS = {"labels": {"scores", "model_version"}, "audit_log": {"actor"}}
_LATER_COLUMNS = {"comments": {"struck"}, "verdicts": {"revision"}}  # versions 4 and 8


def _version_1_schema() -> sa.MetaData:
    """The tables as version 1 declared them: today's, less what versions 2 and 4 added."""
    old = sa.MetaData()
    for table in db.metadata.sorted_tables:
        if table.name in _NEW_TABLES:
            continue
        dropped = _NEW_COLUMNS.get(table.name, set()) | _LATER_COLUMNS.get(table.name, set())
        columns = [c._copy() for c in table.columns if c.name not in dropped]
        constraints = [sa.UniqueConstraint(*[c.name for c in u.columns], name=u.name)
                       for u in table.constraints if isinstance(u, sa.UniqueConstraint)]
        sa.Table(table.name, old, *columns, *constraints)
    return old


@pytest.fixture
def version_1(database_url):
    engine = db.make_engine(database_url)
    with db.transaction(engine) as conn:
        _version_1_schema().create_all(conn)
        conn.execute(sa.insert(db.schema_versions).values(version=1, description="v1", applied_at=db.now()))
        conn.execute(sa.text("INSERT INTO labels (site_id, comment_ref, text, label, value, source, provenance, created_at) "
                             "VALUES ('s', 'c1', 't', 'moderator_decision', 1.0, 'coral', '{}', '2026-11-01 10:00:00')"))
    yield engine
    engine.dispose()


def test_a_version_1_database_is_migrated_to_version_2(version_1):
    assert db.migrate(version_1) == 1
    inspector = sa.inspect(version_1)
    assert set(inspector.get_table_names()) >= _NEW_TABLES
    for table, columns in _NEW_COLUMNS.items():
        assert columns <= {c["name"] for c in inspector.get_columns(table)}
    with db.connect(version_1) as conn:
        assert db.schema_version(conn) == db.SCHEMA_VERSION
        (label,) = db.labels_for(conn, "c1")
    assert label["label"] == "moderator_decision" and label["scores"] is None
    with db.transaction(version_1) as conn:
        db.insert_audit(conn, "review.approve", "s", "c1", {}, actor="mod")
        db.insert_label(conn, "s", "c2", "t", "personal_attack", 1.0, "review", {}, scores={"personal_attack": 0.7},
                        model_version="m1")
        db.create_user(conn, "mod", "hash", "moderator")
    with db.connect(version_1) as conn:
        assert db.list_audit(conn)[0]["actor"] == "mod"
        assert db.labels_for(conn, "c2")[0]["scores"] == {"personal_attack": 0.7}
    assert db.migrate(version_1) == db.SCHEMA_VERSION, "a second run changes nothing"


def test_queues_decisions_and_the_outbox_on_each_database(make_app, database_url, seed_into, signer):
    app = make_app(database_url, REVIEW_COOKIE_SECURE=False, REVIEW_SECRET_KEY="k", CALLBACK_THREAD=False,
                   CALLBACK_URL="http://127.0.0.1:9/cms")
    engine = app.extensions["moderation"].engine
    create_user(engine, "mod", "moderator-password-1", "moderator")
    client = app.test_client()
    token = signer(client, "mod")
    seed_into(app, "c1", "100% rude_words", author_id="a1")
    seed_into(app, "c2", "polite", author_id="a1")
    page = client.get("/review/queue/pending?q=100%25+rude_&label=personal_attack").get_data(as_text=True)
    assert "c1<" in page and "c2<" not in page
    with db.connect(engine) as conn:
        item = db.review_item(conn, "default", "c1")
    answer = client.post(f"/review/items/{item['id']}/decide", headers={"Accept": "application/json"}, data={
        "csrf_token": token, "verdict_id": item["verdict_id"], "decision": "reject", "code": "ABUSIVE"}).get_json()
    assert answer["counts"]["rejected"] == 1
    with db.connect(engine) as conn:
        assert db.authors_by_id(conn, "default", ["a1"])["a1"]["strikes"] == 1
        assert db.callback_counts(conn)["pending"] == 1
        assert db.author_history(conn, "default", ["a1"])["a1"] == {"pending": 1, "reported": 0, "rejected": 1,
                                                                    "approved": 0}


def test_new_verdicts_reach_the_queue_once_and_an_edit_moves_the_comment(review_app, seed):
    svc = review_app.extensions["moderation"]
    seed("c1", "You idiot.")
    seed("c2", "Fine words.", "approve", scores={"profanity": 0.0, "personal_attack": 0.0, "incitement": 0.0})
    assert sync(svc, 0.1) == 2
    assert sync(svc, 0.1) == 0, "nothing new: nothing written"
    with db.transaction(svc.engine) as conn:
        pk = db.save_comment(conn, "default", "c2", "Now rude.", None, None, "u1", "test")
        db.insert_verdict(conn, pk, 2, "Now rude.", {"action": "hold", "reasons": [], "model_version": "m",
                                                     "policy_version": "p", "scores": {"personal_attack": 0.5}})
    assert sync(svc, 0.1) == 1
    with db.connect(svc.engine) as conn:
        assert db.review_item(conn, "default", "c2")["queue"] == "pending"
        assert db.review_counts(conn, {}) == {"pending": 2, "reported": 0, "rejected": 0, "approved": 0}


def test_a_verdict_committed_after_many_later_ones_still_reaches_the_queue(make_app, database_url):
    """PostgreSQL hands out verdict ids as rows are written and commits transactions in any order: a request whose
    transaction took its id early and committed after 500 later ids were synced was left out of the queue for good,
    a held comment nobody would see. Written here as such a late commit looks: a low id, stored just now."""
    app = make_app(database_url, REVIEW_COOKIE_SECURE=False, REVIEW_SECRET_KEY="k", CALLBACK_THREAD=False)
    svc = app.extensions["moderation"]
    verdict = {"action": "hold", "reasons": [], "scores": {"personal_attack": 0.6}, "model_version": "m",
               "policy_version": "p"}

    def store(comment_id: str, verdict_id: int) -> None:
        with db.transaction(svc.engine) as conn:
            pk = db.save_comment(conn, "default", comment_id, f"text of {comment_id}", None, None, "u1", "test")
            conn.execute(sa.insert(db.verdicts).values(
                id=verdict_id, comment_pk=pk, version=1, text=f"text of {comment_id}", text_sha256="0" * 64,
                action="hold", reasons=[], scores=verdict["scores"], model_version="m", policy_version="p",
                created_at=db.now()))

    for k in range(600):
        store(f"later-{k}", 10_000 + k)
    sync(svc, 0.1)
    store("early", 5)
    assert sync(svc, 0.1) == 1
    with db.connect(svc.engine) as conn:
        assert db.review_item(conn, "default", "early")["queue"] == "pending"
