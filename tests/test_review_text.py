"""Comments sent as HTML (Coral's) are shown as readable text, with evidence offsets still on the right words."""

import time

import pytest

from review.text import readable

pytest_plugins = ["tests.webhook_fixtures", "tests.review_fixtures"]


@pytest.mark.parametrize("sent,shown", [
    ("No markup & no references.", "No markup & no references."),
    ("<p>I <b>strongly</b> disagree &amp; think so.</p>", "I strongly disagree & think so.\n"),
    ("<p>One.</p><p>Two.</p>", "One.\nTwo.\n"),
    ("a<br>b<br/><br>c", "a\nb\n\nc"),
    ("<div><blockquote>quoted</blockquote>reply</div>", "quoted\nreply\n"),
    ('Buy <a href="https://spam.example/x?a=1&amp;b=2">here</a>!', "Buy here (https://spam.example/x?a=1&b=2)!"),
    ('<a href="https://example.org/">https://example.org/</a>', "https://example.org/"),  # a linkified URL: once
    ("<i>caf&eacute;</i> &#8364;5 &#x1F600;", "café €5 \U0001F600"),
    # Not formatting: shown as written, so a moderator sees what was attempted.
    ("<script>alert(1)</script>", "<script>alert(1)</script>"),
    ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),
    ("<mark>fake evidence</mark>", "<mark>fake evidence</mark>"),
    ("&nosuchentity; and a < b > c", "&nosuchentity; and a < b > c"),
    ("&lt;b&gt;not a tag&lt;/b&gt;", "<b>not a tag</b>"),
    # References without their ";", as a browser shows them (and the scorer reads them)
    ("&#102uck it, fish &amp chips", "fuck it, fish & chips"),
    # A number of any length in a link's target (it raised ValueError: the queue page gave a 500)
    ('<a href="&#' + "9" * 5000 + ';">x</a>', "x (\ufffd)"),
    ("&#" + "0" * 5000 + "102uck", "fuck"),  # leading zeros: int() would refuse 5,000 decimal digits
    ("you &#x66<b></b>aggot", "you faggot"),  # as the scorer reads it (tests/test_normalise.py)
])
def test_formatting_becomes_plain_text(sent, shown):
    assert readable(sent).text == shown


@pytest.mark.parametrize("sent,shown", [
    ('<a href="u"><a href="v">x</a>y</a>', " (u)x (v)y"),  # links do not nest: a new one ends the open one
    ("</a>stray<a>", "stray"),
])
def test_links_end_where_html_ends_them(sent, shown):
    assert readable(sent).text == shown


@pytest.mark.parametrize("sent", [
    "<p>" * 6_667,  # 20,000 characters, the native API's limit: each tag once looked back past all the others
    "<a href=x>y</a>" * 13_334,  # 200,000 characters (Coral's may be longer): each link joined all before it
    "<a href=x>" * 1_000 + "y" + "</a>" * 1_000,
    "You idiot. " + "<p>" * 6_660,
])
def test_markup_costs_time_in_proportion_to_its_length(sent):
    began = time.perf_counter()
    readable(sent)
    assert time.perf_counter() - began < 0.5  # it took 1.9 s for the last one, per card, when quadratic


def test_unchanged_text_says_so():
    assert not readable("a < b & c").changed and readable("<b>a</b>").changed


@pytest.mark.parametrize("sent,span,words", [
    ("<p>You <b>mor</b>on.</p>", (10, 19), "moron"),  # as the scorer reports it: across the bold tags
    ("<p>You <b>mor</b>on.</p>", (3, 19), "You moron"),  # from the start of the paragraph tag
    ("Tom &amp; Jerry are idiots", (20, 26), "idiots"),  # after a character reference
    ("Tom &amp; Jerry", (6, 7), "&"),  # inside a reference: the whole character
    ("a <b>b</b> c", (2, 5), ""),  # only a tag
])
def test_evidence_offsets_into_the_html_mark_the_same_words(sent, span, words):
    shown = readable(sent)
    begin, end = shown.span(*span)
    assert shown.text[begin:end] == words


def test_every_span_maps_inside_the_readable_text():
    sent = '<p>x &amp; <a href="u">y</a><br>z &bogus; <img src=q></p>'
    shown = readable(sent)
    for begin in range(len(sent)):
        for end in range(begin + 1, len(sent) + 1):
            a, b = shown.span(begin, end)
            assert 0 <= a <= b <= len(shown.text)


def test_a_card_shows_an_html_comment_as_text(review_app, mod_client, seed):
    sent = "<p>I <b>strongly</b> disagree &amp; think you are a <i>mor</i>on.</p><p>Second paragraph.</p>"
    begin = sent.index("mor")
    seed("c-html", sent, evidence=[{"label": "personal_attack", "begin": begin, "end": sent.index("on.") + 2}])
    seed("parent", "<p>The <b>original</b> comment</p>", "approve")
    seed("reply", "plain reply", parent_id="parent")
    page = mod_client.get("/review/comment?site_id=default&comment_id=c-html").get_data(as_text=True)
    assert "I strongly disagree &amp; think you are a <mark" in page
    assert '<span class="vh">personal attack: </span>moron</mark>.\nSecond paragraph.' in page
    assert "&lt;b&gt;" not in page and "&amp;amp;" not in page and "HTML shown as text" in page
    reply = mod_client.get("/review/comment?site_id=default&comment_id=reply").get_data(as_text=True)
    assert "The original comment" in reply and "HTML shown as text" not in reply
