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
