"""The review queue as a moderator uses it: a real headless Chromium against a real server.

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and the ``playwright`` package. Without them
the tests skip and say why; in CI (``MODERATION_REQUIRE_BROWSER=1``) they fail instead. With
``MODERATION_SCREENSHOTS=docs/screenshots`` the queue and a card are saved there as PNGs.
"""

import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from review.auth import create_user
from webhook import db
from webhook.signing import verify_native

from .webhook_helpers import ATTACK, SECRETS, signed_post

pytest_plugins = ["tests.webhook_fixtures", "tests.review_fixtures"]
pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("MODERATION_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "moderator-password-1"
# Holds everything over the hold thresholds and rejects nothing, so the real model's verdicts land
# in the Pending queue whatever the model version.
HOLDING_POLICY = """
id = "hold-all"
version = "test"
title = "Everything flagged waits for a person"
{clauses}
[unscorable]
non_english = "hold"
empty = "reject"
error = "hold"
clause = "moderator-review"
text = "Reviewed by a moderator."
[authors]
premod_after = 3
block_after = 6
clause = "repeat-offenders"
text = "Repeat offenders may be blocked."
"""
_CLAUSE = """
[[clause]]
id = "no-{label}"
text = "No {label}."
labels = ["{label}"]
hold_at = 0.2
reject_at = 1.0
"""


def _browser_problem() -> str | None:
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        return f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (or set MODERATION_CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: pip install -e '.[dev]'"
    return None


@pytest.fixture(scope="module")
def browser():
    problem = _browser_problem()
    if problem:
        if os.environ.get("MODERATION_REQUIRE_BROWSER"):
            pytest.fail(problem)
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def server(make_app, tmp_path, cms):
    """The service with the review queue on a free port, callbacks to the test's CMS."""
    policy = tmp_path / "policy.toml"
    policy.write_text(HOLDING_POLICY.format(clauses="".join(
        _CLAUSE.format(label=label) for label in ("profanity", "personal_attack", "incitement"))))
    app = make_app(POLICY=str(policy), REVIEW_COOKIE_SECURE=False, REVIEW_SECRET_KEY="browser-test",
                   CALLBACK_URL=cms.url, CALLBACK_THREAD=True, CALLBACK_BACKOFF=0.2)
    create_user(app.extensions["moderation"].engine, "mod", PASSWORD, "moderator")
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    app.extensions["review"].extensions["outbox"].stop()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1100, "height": 760})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    _, base = server
    tab.goto(f"{base}/review/")
    tab.fill("input[name=username]", "mod")
    tab.fill("input[name=password]", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_selector("body[data-ready='1'] #cards")
    yield tab
    context.close()


def _pending(tab) -> int:
    return int(tab.text_content(".count[data-queue=pending]"))


def _wait_pending(tab, n: int) -> None:
    # A selector, not a script: the pages' Content-Security-Policy forbids evaluating strings.
    tab.locator(f".top .count[data-queue=pending]:text-is('{n}')").wait_for()


def _rows(app, table):
    with db.connect(app.extensions["moderation"].engine) as conn:
        return [r._asdict() for r in conn.execute(sa.select(db.metadata.tables[table]))]


def _screenshot(tab, name: str, selector: str | None = None) -> None:
    folder = os.environ.get("MODERATION_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    target = tab.locator(selector).first if selector else tab
    target.screenshot(path=str(Path(folder) / name))


def test_a_moderator_works_the_queue_with_the_keyboard(server, page, cms):
    app, base = server
    client = app.test_client()
    with db.transaction(app.extensions["moderation"].engine) as conn:
        db.upsert_article(conn, "default", "a1", "Council approves new cycle lanes on the high street",
                          "The council voted to build cycle lanes.", None, "test")
    comments = [("troll-1", "You people are all idiots and morons, every one of you.", "troll"),
                ("rude-1", "What a stupid, pathetic argument from a clueless fool.", "u2"),
                ("attack-1", ATTACK, "u1")]  # the newest is first in the queue
    for comment_id, text, author in comments:
        answer = signed_post(client, "/v1/comments", {"id": comment_id, "text": text, "article_id": "a1",
                                                      "author_id": author}).get_json()
        assert answer["action"] == "hold", answer
    page.goto(f"{base}/review/queue/pending")
    page.wait_for_selector("body[data-ready='1']")
    assert _pending(page) == 3
    first = page.locator(".card").first
    assert first.locator(".cid").text_content() == "attack-1"
    assert "selected" in first.get_attribute("class")
    marks = first.locator(".text mark").all_text_contents()
    assert marks and any("moron" in m for m in marks), marks
    assert "Council approves new cycle lanes" in first.text_content()
    _screenshot(page, "queue.png")
    _screenshot(page, "card.png", ".card")

    page.keyboard.press("?")
    assert page.locator("dialog#help").is_visible()
    page.keyboard.press("Escape")
    page.click("a.help-button")  # a link to the help page, which the script shows in place
    assert page.locator("dialog#help").is_visible() and page.url.endswith("/review/queue/pending")
    page.keyboard.press("Escape")

    page.keyboard.press("f")  # approve attack-1
    _wait_pending(page, 2)
    assert page.locator(".card").first.locator(".cid").text_content() == "rude-1"
    # The message links to the comment, where a mistaken decision is found and overturned.
    assert page.locator("#flash a").get_attribute("href") == "/review/comment?site_id=default&comment_id=attack-1"

    page.keyboard.press("d")  # reject rude-1 with a reason and a word for the commenter
    page.select_option(".card.selected select[name=code]", "ABUSIVE")
    page.fill(".card.selected textarea[name=explanation]", "Please argue with the point, not the person.")
    page.keyboard.press("Control+Enter")
    _wait_pending(page, 1)

    page.once("dialog", lambda dialog: dialog.accept())
    page.keyboard.press("b")  # block troll
    page.wait_for_selector("#flash .flash:has-text('Blocked author troll')")
    assert page.locator(".card.selected .author .status").text_content() == "blocked", "the card shows it at once"

    items = {r["comment_id"]: r for r in _rows(app, "review_items")}
    assert (items["attack-1"]["queue"], items["attack-1"]["decided_by"]) == ("approved", "mod")
    assert (items["rude-1"]["queue"], items["rude-1"]["reason_code"]) == ("rejected", "ABUSIVE")
    assert items["rude-1"]["explanation"] == "Please argue with the point, not the person."
    assert {r["author_id"]: r["status"] for r in _rows(app, "authors")}["troll"] == "blocked"
    audit = [(r["event"], r["subject"], r["actor"]) for r in _rows(app, "audit_log") if r["actor"]]
    assert audit == [("review.approve", "attack-1", "mod"), ("review.reject", "rude-1", "mod"),
                     ("review.author_status", "troll", "mod")]
    decisions = {r["comment_ref"] for r in _rows(app, "labels") if r["label"] == "moderator_decision"}
    assert decisions == {"attack-1", "rude-1"}

    deadline = time.monotonic() + 10
    while len(cms.received) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    bodies = []
    for call in cms.received:
        verify_native(call["headers"], call["body"], [SECRETS[0]], window=300)
        bodies.append(json.loads(call["body"]))
    assert [(b["event"], b.get("comment_id") or b.get("author_id")) for b in bodies] == [
        ("comment.decision", "attack-1"), ("comment.decision", "rude-1"), ("author.status", "troll")]
    assert bodies[1]["rejection_reason"] == {"code": "ABUSIVE",
                                             "detailed_explanation": "Please argue with the point, not the person."}


def test_a_queue_of_200_held_comments_is_cleared_by_keyboard_alone(server, page, cms, seed_into):
    app, base = server
    for n in range(200):
        seed_into(app, f"held-{n:03d}", f"Held comment number {n}, you fool.", author_id=f"reader-{n % 17}",
                  evidence=[{"label": "personal_attack", "begin": 27, "end": 31}])
    page.goto(f"{base}/review/queue/pending")
    page.wait_for_selector("body[data-ready='1'] .card.selected")
    assert _pending(page) == 200
    started = time.monotonic()
    for remaining in range(199, -1, -1):
        page.keyboard.press("f")
        _wait_pending(page, remaining)
        if remaining:
            page.wait_for_selector(".card.selected")  # after the last card of a page, the next page has loaded
    elapsed = time.monotonic() - started
    page.wait_for_selector("p.empty")
    items = _rows(app, "review_items")
    assert len(items) == 200 and {r["queue"] for r in items} == {"approved"}
    audit = [r for r in _rows(app, "audit_log") if r["event"] == "review.approve"]
    assert len(audit) == 200 and {r["actor"] for r in audit} == {"mod"}
    deadline = time.monotonic() + 20
    while len(cms.received) < 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len({json.loads(c["body"])["comment_id"] for c in cms.received}) == 200
    print(f"200 comments cleared by keyboard in {elapsed:.1f} s")


def test_a_bulk_rejection_needs_a_reason_and_asks_first(server, page, seed_into):
    app, base = server
    for n in range(2):
        seed_into(app, f"bulk-{n}", f"Bulk comment {n}, you fool.")
    page.goto(f"{base}/review/queue/pending")
    page.wait_for_selector("body[data-ready='1'] .card.selected")
    for key in "xjx":  # select both cards
        page.keyboard.press(key)
    page.click("#bulk button[value=reject]")  # no reason chosen: nothing is sent
    page.wait_for_selector("#flash .flash.error:has-text('Choose a reason')")
    page.select_option("#bulk select[name=code]", "ABUSIVE")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("#bulk button[value=reject]")  # asked, and declined
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.click("#bulk button[value=reject]")
    page.wait_for_selector("#flash .flash:has-text('2 of 2 comments rejected.')")
    assert asked == ["Reject 2 comments as ABUSIVE?"] * 2
    assert {(r["decision"], r["reason_code"]) for r in _rows(app, "review_items")} == {("reject", "ABUSIVE")}
    assert len([r for r in _rows(app, "audit_log") if r["event"] == "review.reject"]) == 2


def _seed_cards(app, seed_into, n: int, prefix: str = "card") -> None:
    for k in range(n):
        seed_into(app, f"{prefix}-{k}", f"Comment {k}, you fool. " + "A long line of argument. " * 12,
                  author_id=f"reader-{k}", evidence=[{"label": "personal_attack", "begin": 15, "end": 19}])


def test_the_selected_card_has_focus_and_is_marked_current(server, page, seed_into):
    app, base = server
    _seed_cards(app, seed_into, 8)
    page.goto(f"{base}/review/queue/pending")
    page.wait_for_selector("body[data-ready='1'] .card.selected")
    cards = page.locator("#cards .card")
    assert page.evaluate("window.scrollY") == 0  # the page opens at its top, filters in view
    assert cards.first.evaluate("c => c === document.activeElement") and cards.first.get_attribute("aria-current")
    for _ in range(6):
        page.keyboard.press("j")
    for _ in range(2):
        page.keyboard.press("k")
    selected = cards.nth(4)
    assert selected.evaluate("c => c === document.activeElement")
    assert page.locator("[aria-current]").count() == 1 and selected.get_attribute("aria-current") == "true"
    header_bottom = page.locator("header.top").bounding_box()["height"]
    assert selected.bounding_box()["y"] >= header_bottom, "the selected card's top is under the sticky header"
    page.keyboard.press("Tab")  # Tab goes on from the selected card, into it
    assert selected.evaluate("c => c.contains(document.activeElement) && c !== document.activeElement")


def test_a_decision_updates_the_heading_and_title_with_the_badges(server, page, seed_into):
    app, base = server
    _seed_cards(app, seed_into, 3, "fool")
    seed_into(app, "nice", "A thoughtful remark.")
    page.goto(f"{base}/review/queue/pending?q=fool")
    page.wait_for_selector("body[data-ready='1'] .card.selected")
    assert page.title().startswith("Pending (3)") and _pending(page) == 4
    page.keyboard.press("f")
    _wait_pending(page, 3)  # the whole queue
    page.locator("h1 .count[data-shown=pending]:text-is('2')").wait_for()  # this filtered list
    assert page.title().startswith("Pending (2)")


def test_a_decision_on_the_comment_s_page_can_be_corrected_from_the_same_card(server, page, seed_into):
    app, base = server
    seed_into(app, "oops", "You fool.")
    page.goto(f"{base}/review/comment?site_id=default&comment_id=oops")
    page.wait_for_selector("body[data-ready='1'] .card.selected")
    page.keyboard.press("f")
    page.wait_for_selector("#flash .flash.info:has-text('Approved comment oops.')")
    assert page.inner_text(".card p.decided").startswith("approved by mod at ")
    page.keyboard.press("d")  # on second thought: the card stayed, and now shows the approval
    page.keyboard.press("Enter")
    page.wait_for_selector("#flash .flash.info:has-text('Rejected comment oops.')")
    assert page.inner_text(".card p.decided").startswith("rejected by mod at ")
    assert [(r["decision"], r["decided_by"]) for r in _rows(app, "review_items")] == [("reject", "mod")]


def test_a_slip_is_corrected_from_my_decisions(server, page, seed_into):
    app, base = server
    seed_into(app, "slip", "You fool.")
    page.goto(f"{base}/review/queue/pending")  # the queue takes the comment in
    page.wait_for_selector("body[data-ready='1'] .card.selected")
    with db.transaction(app.extensions["moderation"].engine) as conn:  # approved a few cards ago
        item = _rows(app, "review_items")[0]
        db.decide_review_item(conn, item["id"], item["verdict_id"], "approve", "mod", None, None)
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    page.goto(f"{base}/review/mine")
    page.wait_for_selector("body[data-ready='1'] .card.selected")
    assert page.inner_text(".card p.decided").startswith("approved by mod at ")
    page.keyboard.press("x")  # bulk selection is for queue pages: here the key does nothing, and throws nothing
    assert page.locator("input[name=item]").count() == 0
    assert page.locator("input[name=allowed]").count() == 1 and page.locator("input[name=allowed]:checked").count() == 0
    page.keyboard.press("d")
    page.keyboard.press("Enter")
    page.wait_for_selector("#flash .flash.info:has-text('Rejected comment slip.')")
    assert page.locator(".card").count() == 1  # the card stays on this page, showing the new decision
    assert page.inner_text(".card p.decided").startswith("rejected by mod at ")
    assert [(r["decision"], r["decided_by"]) for r in _rows(app, "review_items")] == [("reject", "mod")]
    assert errors == []


def test_a_box_ticked_under_allowed_here_goes_with_the_approval_made_by_key(server, page, seed_into):
    """Ticking "allowed here, but still: profanity" leaves the keys working: f approves with it."""
    app, base = server
    seed_into(app, "next", "You fool.")  # the queue is not emptied (an empty one reloads)
    seed_into(app, "sweary", "Bloody brilliant, damn well done.",
              scores={"profanity": 0.8, "personal_attack": 0.1, "incitement": 0.01})
    page.goto(f"{base}/review/queue/pending")
    page.wait_for_selector("body[data-ready='1'] .card.selected")
    assert page.inner_text(".card.selected a.cid") == "sweary"  # the newest first
    page.check(".card.selected input[name=allowed][value=profanity]")
    page.keyboard.press("f")
    page.wait_for_selector("#flash .flash.info:has-text('Approved comment sweary.')")
    assert [(r["comment_id"], r["decision"], r["allowed"]) for r in _rows(app, "review_items")] == [
        ("next", None, None), ("sweary", "approve", "profanity")]

    # On the comment's page the card stays: Enter on a box does not approve, and a rejection unticks the box,
    # as a reload would show it, so approving from the card again does not resend an allowance not chosen.
    page.goto(f"{base}/review/comment?site_id=default&comment_id=sweary")
    page.wait_for_selector("body[data-ready='1'] .card.selected")
    assert page.is_checked(".card input[name=allowed][value=profanity]")
    page.focus(".card input[name=allowed][value=profanity]")
    page.keyboard.press("Space")  # unticked: Enter now would send a plain approval, a change
    page.keyboard.press("Enter")
    page.keyboard.press("Space")  # ticked again, as the approval in force has it
    page.keyboard.press("Escape")  # leaves the box, so the keys act on the card again
    page.keyboard.press("d")
    page.keyboard.press("Enter")
    page.wait_for_selector("#flash .flash.info:has-text('Rejected comment sweary.')")
    assert not page.is_checked(".card input[name=allowed][value=profanity]")
    assert [(r["decision"], r["allowed"]) for r in _rows(app, "review_items") if r["comment_id"] == "sweary"] == [
        ("reject", None)]
    audit = [r["event"] for r in _rows(app, "audit_log") if r["subject"] == "sweary"]
    assert audit == ["review.approve", "review.reject"], "Enter on the box approved nothing"


def _overflow(tab) -> int:
    return tab.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_nothing_scrolls_sideways_on_a_phone(browser, server, seed_into):
    app, base = server
    create_user(app.extensions["moderation"].engine, "boss", PASSWORD, "admin")
    _seed_cards(app, seed_into, 3)
    with db.transaction(app.extensions["moderation"].engine) as conn:
        db.upsert_article(conn, "default", "a1", "Council approves new cycle lanes", "Body.", None, "test")
    seed_into(app, "on-article", "On the article.", article_id="a1")
    context = browser.new_context(viewport={"width": 375, "height": 740})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    tab.goto(f"{base}/review/")
    tab.fill("input[name=username]", "boss")
    tab.fill("input[name=password]", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_selector("body[data-ready='1'] .card.selected")
    assert tab.evaluate("window.scrollY") == 0
    first = tab.locator(".card").first.bounding_box()
    header = tab.locator("header.top").bounding_box()
    assert first["y"] >= header["y"] + header["height"], "the first card starts under the header"
    assert _overflow(tab) <= 0, "the queue scrolls sideways"
    tab.keyboard.press("d")  # the reject form opens inside the card
    tab.wait_for_selector(".card.selected details.reject[open]")
    assert _overflow(tab) <= 0, "the open reject form scrolls sideways"
    for path in ("/review/admin/users", "/review/audit", "/review/editors/sites/default/",
                 "/review/editors/sites/default/articles/a1/", "/review/author?site_id=default&author_id=reader-0"):
        tab.goto(base + path)
        tab.wait_for_selector("body[data-ready='1']")
        assert _overflow(tab) <= 0, f"{path} scrolls sideways"
    context.close()


def test_a_decision_after_the_session_ended_says_so_and_what_was_not_decided(server, page, seed_into):
    app, base = server
    for n in range(3):
        seed_into(app, f"late-{n}", f"Late comment {n}, you fool.")
    page.goto(f"{base}/review/queue/pending?q=fool")
    page.wait_for_selector("body[data-ready='1'] .card.selected")
    page.context.clear_cookies()  # what the browser does when the session cookie's time is up
    page.keyboard.press("f")
    notice = page.locator("#flash .flash.error")
    notice.filter(has_text="was not decided").wait_for()
    assert notice.text_content() == "Your session has expired: sign in again; comment late-2 was not decided."
    page.keyboard.press("f")  # not sent: named as not decided too
    notice.filter(has_text="late-1").wait_for()
    assert {r["decision"] for r in _rows(app, "review_items")} == {None}
    page.click("#flash a:text-is('sign in again')")
    page.wait_for_selector("form.login")
    assert "Your session has expired: sign in again." in page.text_content("main")
    page.fill("input[name=username]", "mod")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-ready='1'] .card.selected")
    assert page.url.endswith("/review/queue/pending?q=fool") and page.locator(".card").count() == 3
