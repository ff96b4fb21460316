"""Comment text is hostile: a corpus of XSS payloads renders inert on every page that shows it."""

import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from review.cards import highlight
from webhook import db

pytest_plugins = ["tests.webhook_fixtures", "tests.review_fixtures"]

PAYLOADS = [
    "<script>alert('xss')</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "<a href=\"javascript:alert(1)\">click me</a>",
    "<a href='jav&#x09;ascript:alert(1)'>tab</a>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<body onload=alert(1)>",
    "<div style=\"background:url(javascript:alert(1))\">styled</div>",
    "\"><script>alert(1)</script>",
    "'><img src=x onerror=alert(1)//",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<!--<script>alert(1)</script>-->",
    "<math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "{{ 7*7 }} {% raw %} ${7*7}",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "<unclosed <b>bold <i>and <broken",
    "&lt;script&gt;alert(1)&lt;/script&gt; &amp;lt;",
    "<mark>fake evidence</mark></div></article><script>alert(1)</script>",
]


class _Tags(HTMLParser):
    """Collects every tag, attribute and script body a browser would see."""

    def __init__(self):
        super().__init__()
        self.tags, self.attributes, self.scripts, self._in_script = [], [], [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend(attrs)
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.scripts.append(data)


def _assert_inert(html: str) -> None:
    parsed = _Tags()
    parsed.feed(html)
    assert not parsed.scripts, "an inline script made it into the page"
    handlers = [(name, value) for name, value in parsed.attributes if name.startswith("on")]
    assert not handlers, f"event handler attributes in the page: {handlers}"
    urls = [value for name, value in parsed.attributes if name in ("href", "src", "action", "formaction", "content")
            and re.sub(r"[\s\x00-\x1f]", "", value or "").lower().startswith(("javascript:", "0;url"))]
    assert not urls, f"javascript: URLs in the page: {urls}"
    injected = {"iframe", "svg", "img", "math", "base", "meta", "body", "style", "mglyph"}
    assert not injected & set(parsed.tags[parsed.tags.index("body") + 1:]), "a tag from a comment became markup"
    assert not [name for name, _ in parsed.attributes if name in ("style", "srcdoc")], "a style attribute got in"
    assert "<script>alert" not in html


@pytest.fixture
def hostile(review_app, seed):
    """Every payload as a held comment, and as its author, article title and parent comment."""
    engine = review_app.extensions["moderation"].engine
    with db.transaction(engine) as conn:
        db.upsert_article(conn, "default", "art", PAYLOADS[0] + PAYLOADS[1], "body", None, "test")
    seed("parent", PAYLOADS[2] + PAYLOADS[3], "approve")
    for n, payload in enumerate(PAYLOADS):
        # Evidence spans that cut through the payload's tags must not make markup either.
        evidence = [{"label": "personal_attack", "begin": 1, "end": max(2, len(payload) // 2)},
                    {"label": "profanity", "begin": len(payload) // 3, "end": len(payload)}]
        seed(f"x{n}", payload, author_id=payload[:60], article_id="art", parent_id="parent", evidence=evidence)
    return PAYLOADS


def test_the_queue_renders_every_payload_inert(mod_client, hostile):
    page = mod_client.get("/review/queue/pending").get_data(as_text=True)
    assert page.count('class="card ') == len(hostile)
    _assert_inert(page)
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in page  # shown, as text


def test_comment_author_and_audit_pages_render_inert(review_app, mod_client, hostile):
    with db.connect(review_app.extensions["moderation"].engine) as conn:
        items = [r._asdict() for r in conn.execute(sa.select(db.review_items))]
    for item in items[:6]:
        page = mod_client.get("/review/comment", query_string={"site_id": "default", "comment_id": item["comment_id"]})
        assert page.status_code == 200
        _assert_inert(page.get_data(as_text=True))
        author = mod_client.get("/review/author", query_string={"site_id": "default", "author_id": item["author_id"]})
        assert author.status_code == 200
        _assert_inert(author.get_data(as_text=True))
    for item in items[:4]:
        mod_client.post(f"/review/items/{item['id']}/decide", data={
            "csrf_token": mod_client.csrf, "verdict_id": item["verdict_id"], "decision": "reject", "code": "OTHER",
            "explanation": PAYLOADS[1]})
    _assert_inert(mod_client.get("/review/audit").get_data(as_text=True))
    _assert_inert(mod_client.get("/review/queue/rejected").get_data(as_text=True))


def test_search_and_filter_values_are_escaped(mod_client, hostile):
    page = mod_client.get("/review/queue/pending", query_string={"q": '"><script>alert(1)</script>',
                                                                 "author_id": "<img src=x onerror=alert(1)>"})
    _assert_inert(page.get_data(as_text=True))


def test_a_flash_message_with_a_hostile_comment_id_is_escaped(review_app, mod_client, seed):
    seed("<script>alert(1)</script>", "text")
    mod_client.get("/review/queue/pending")
    with db.connect(review_app.extensions["moderation"].engine) as conn:
        item = conn.execute(sa.select(db.review_items)).first()._asdict()
    mod_client.post(f"/review/items/{item['id']}/decide", data={
        "csrf_token": mod_client.csrf, "verdict_id": item["verdict_id"], "decision": "approve", "next": "/queue/pending"})
    _assert_inert(mod_client.get("/review/queue/pending").get_data(as_text=True))


def test_admin_pages_render_hostile_user_names_inert(admin_client):
    admin_client.post("/review/admin/users", data={"csrf_token": admin_client.csrf,
                                                   "username": "<img src=x onerror=alert(1)>", "password": "long-enough-1",
                                                   "role": "moderator"})
    _assert_inert(admin_client.get("/review/admin/users").get_data(as_text=True))
    _assert_inert(admin_client.get("/review/audit").get_data(as_text=True))


MARK = '<mark title="personal_attack"><span class="vh">personal attack: </span>'


@pytest.mark.parametrize("text,spans,expected", [
    ("You idiot.", [(4, 9)], f"You {MARK}idiot</mark>."),
    ("a<x>c", [(1, 4)], f"a{MARK}&lt;x&gt;</mark>c"),  # not a formatting tag: shown as written
    ("abcdef", [(0, 3), (2, 5)], f"{MARK}abcde</mark>f"),  # overlapping spans merge
    ("abc", [(2, 9), (-1, 1), (2, 2), ("0", 1)], "abc"),  # out of range, empty or malformed: ignored
    ("&amp;", [(0, 5)], f"{MARK}&amp;</mark>"),  # a character reference is the character it names
    ("&amp;amp;", [(0, 9)], f"{MARK}&amp;amp;</mark>"),  # decoded once, then escaped
    ("<p>You <b>mor</b>on.</p>", [(10, 19)], f"You {MARK}moron</mark>.\n"),  # offsets into the HTML as sent
    ("<b>x</b> y", [(0, 3)], "x y"),  # evidence inside markup only: nothing to mark
    ("<script>x</script>", [(0, 8)], f"{MARK}&lt;script&gt;</mark>x&lt;/script&gt;"),
])
def test_highlight_escapes_every_piece_and_marks_only_valid_spans(text, spans, expected):
    reasons = [{"label": "personal_attack", "evidence": [{"begin": b, "end": e} for b, e in spans]}]
    assert str(highlight(text, reasons)) == expected


def test_each_mark_names_its_labels_for_screen_readers():
    reasons = [{"label": "personal_attack", "evidence": [{"begin": 0, "end": 3}]},
               {"label": "profanity", "evidence": [{"begin": 1, "end": 5}]}]
    assert str(highlight("abcdef", reasons)) == (
        '<mark title="personal_attack, profanity"><span class="vh">personal attack, profanity: </span>abcde</mark>f')
