"""Text search of the queues finds what a moderator reads: words split by HTML markup, capitals of any
alphabet; on SQLite and PostgreSQL alike."""

import re

import pytest

from review import search

pytest_plugins = ["tests.webhook_fixtures", "tests.review_fixtures"]

LOW = {"profanity": 0.0, "personal_attack": 0.41, "incitement": 0.0}
HIGH = {"profanity": 0.0, "personal_attack": 0.79, "incitement": 0.0}


@pytest.fixture
def client(make_review_app, database_url, seed_into, signer):
    app = make_review_app(database_url)
    seed_into(app, "c-008", "<p>I <b>strongly</b> disagree &amp; think the plan&#39;s cost is <i>far\n too</i> high.</p>",
              scores=HIGH)
    seed_into(app, "c-026", "Ünsere Stadt ist SCHÖN, aber der Verkehr!", scores=LOW)
    seed_into(app, "c-030", "I disagree strongly, the plan is fine.", "approve",
              scores={"profanity": 0.0, "personal_attack": 0.0, "incitement": 0.0})
    client = app.test_client()
    client.csrf = signer(client, "mod")
    return client


def _found(client, query, queue="pending"):
    page = client.get(f"/review/queue/{queue}", query_string={"q": query})
    return re.findall(r'class="cid" href="[^"]+">([^<]+)<', page.get_data(as_text=True))


@pytest.mark.parametrize(("query", "found"), [
    ("strongly disagree", ["c-008"]),  # a phrase that markup splits
    ("disagree & think", ["c-008"]),  # a character reference, read as the character
    ("plan's cost", ["c-008"]),
    ("far too high", ["c-008"]),  # a line break read as a space
    ("ünsere", ["c-026"]), ("ÜNSERE", ["c-026"]), ("schön", ["c-026"]), ("Stadt ist", ["c-026"]),
    ("STRONGLY", ["c-008"]),
    ("<b>", []),  # formatting is not text
    ("strongly agree", []), ("100%", []), ("ü", ["c-026"]),
])
def test_search_reads_the_text_as_a_moderator_does(client, query, found):
    assert _found(client, query) == found


@pytest.mark.parametrize(("query", "found"), [
    ("fuck", ["c-041"]), ("disagree", ["c-041"]), ("really disagree", ["c-041"]),
    ("spam", ["c-042"]), ("fake account", ["c-042"]), ("café", ["c-042"]), ("cafe\u0301", ["c-042"]),
])
def test_a_word_the_card_shows_whole_is_found_however_the_comment_spells_it(make_review_app, database_url, seed_into,
                                                                            signer, query, found):
    """A character reference inside a word, a tag inside a word, a soft hyphen, a zero-width space, decomposed
    accents: the card shows the word whole, so search finds it (a review found each missed)."""
    app = make_review_app(database_url)
    seed_into(app, "c-041", "what the &#102uck is this, I <i>really</i> dis<b>agree</b>", scores=HIGH)
    seed_into(app, "c-042", "total sp&shy;am from a fake acc\u200bount at the Cafe\u0301", scores=LOW)
    client = app.test_client()
    client.csrf = signer(client, "mod")
    assert _found(client, query) == found


def test_search_counts_and_orders_what_it_finds(client):
    page = client.get("/review/queue/pending", query_string={"q": "disagree"}).get_data(as_text=True)
    assert re.search(r'data-shown="pending">1</span>', page) and "<title>Pending (1)" in page
    approved = client.get("/review/queue/approved", query_string={"q": "disagree"}).get_data(as_text=True)
    assert re.findall(r'class="cid" href="[^"]+">([^<]+)<', approved) == ["c-030"]
    assert 'data-shown="approved">1<' in approved
    for order, listed in (("newest", ["c-026", "c-008"]), ("risk", ["c-008", "c-026"])):
        page = client.get("/review/queue/pending", query_string={"q": "s", "order": order}).get_data(as_text=True)
        assert re.findall(r'class="cid" href="[^"]+">([^<]+)<', page) == listed


def test_search_reads_a_bounded_number_of_candidates_and_says_so(client, monkeypatch):
    monkeypatch.setattr(search, "CANDIDATES", 1)
    pending = client.get("/review/queue/pending", query_string={"q": "disagree"}).get_data(as_text=True)
    assert "c-008" not in pending and "Search read the newest 1 comments that hold its words" in pending
    approved = client.get("/review/queue/approved", query_string={"q": "disagree"}).get_data(as_text=True)
    assert re.findall(r'class="cid" href="[^"]+">([^<]+)<', approved) == ["c-030"]  # the newest candidate
    assert "Search read" not in client.get("/review/queue/pending", query_string={"q": "ünsere"}).get_data(as_text=True)


def test_items_stored_before_schema_10_are_found_and_filled_in_at_the_next_syncs(make_review_app, database_url, seed_into,
                                                                                  signer, monkeypatch):
    """A database upgraded to schema 10 has no item's shown text filled in: search reads the stored text for those
    meanwhile, and the queue's syncs fill them in, a batch at a time."""
    import sqlalchemy as sa

    from review import queue
    from webhook import db

    app = make_review_app(database_url)
    for k in range(5):
        seed_into(app, f"old-{k}", f"comment {k}: dis<b>agree</b>", scores=HIGH)
    client = app.test_client()
    client.csrf = signer(client, "mod")
    client.get("/review/queue/pending")  # synced and filled in
    engine = app.extensions["moderation"].engine
    with db.transaction(engine) as conn:  # as an upgrade from version 9 leaves them
        conn.execute(sa.update(db.review_items).values(search_text=None))
    queue._INDEXED.clear()
    monkeypatch.setattr(queue, "INDEX_BATCH", 2)
    filled, found = [], []
    for _ in range(4):
        with db.connect(engine) as conn:
            filled.append(conn.execute(sa.select(sa.func.count()).select_from(db.review_items)
                                       .where(db.review_items.c.search_text.is_not(None))).scalar_one())
        found.append(len(_found(client, "disagree")))  # the page's sync fills in two more first
    # Until filled in, an item is a candidate only by its stored text, which splits "dis<b>agree</b>".
    assert (filled, found) == ([0, 2, 4, 5], [2, 4, 5, 5])
    assert sorted(_found(client, "disagree")) == [f"old-{k}" for k in range(5)]


def test_a_search_text_read_before_an_edit_is_never_written_over_the_edit_s(make_review_app, database_url, seed_into,
                                                                            signer):
    """Two workers: one reads an item's text to fill in, the other syncs an edit of it (clearing and filling it
    anew) before the first writes: the first's text, of the old verdict, must not land on the new one."""
    import sqlalchemy as sa

    from webhook import db

    app = make_review_app(database_url)
    seed_into(app, "c1", "you idiot, apple.", scores=HIGH)
    client = app.test_client()
    client.csrf = signer(client, "mod")
    engine = app.extensions["moderation"].engine
    client.get("/review/queue/pending")
    with db.transaction(engine) as conn:
        conn.execute(sa.update(db.review_items).values(search_text=None))
        stale = db.items_to_index(conn, 10)  # worker A reads verdict 1's text
        pk = conn.execute(sa.select(db.comments.c.id).where(db.comments.c.comment_id == "c1")).scalar_one()
        db.insert_verdict(conn, pk, 2, "you idiot, banana.", {
            "action": "hold", "reasons": [], "scores": HIGH, "stance": None, "stance_scores": None, "language": "en",
            "fallback": None, "model_version": "m", "policy_version": "p"})
    assert _found(client, "banana") == ["c1"]  # worker B syncs the edit and fills it in
    with db.transaction(engine) as conn:  # worker A writes what it read
        db.set_search_texts(conn, [(r["id"], r["verdict_id"], "you idiot, apple.") for r in stale])
    assert (_found(client, "banana"), _found(client, "apple")) == (["c1"], [])
