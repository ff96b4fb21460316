"""Editors' view: neutrality numbers on a constructed example, charts from stored verdicts, the report."""

from __future__ import annotations

import html
import re
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from webhook import db
from webhook.editors import _with_derived, alt_texts, comments_frame, neutrality, render_chart, violation_rates, write_report

pytest_plugins = ["tests.webhook_fixtures", "tests.review_fixtures"]


def engine_of(app):
    # Not imported from tests.review_fixtures: a plugin module imported before pytest loads it as one is
    # not assertion-rewritten (PytestAssertRewriteWarning).
    return app.extensions["moderation"].engine


PNG = b"\x89PNG\r\n\x1a\n"
ROOT = Path(__file__).resolve().parent.parent


def _frame(rows: list[tuple]) -> pd.DataFrame:
    """(stance, violation score, model action, moderator decision or None) per comment."""
    frame = pd.DataFrame([{"comment_id": f"c{i}", "article_id": "a1", "created_at": pd.Timestamp("2026-11-20") +
                           pd.Timedelta(hours=i), "action": action, "stance": stance, "fallback": None,
                           "decision": decision, "scores": {"profanity": 0.0, "personal_attack": score, "incitement": 0.0}}
                          for i, (stance, score, action, decision) in enumerate(rows)],
                         columns=["comment_id", "article_id", "created_at", "action", "stance", "fallback", "decision",
                                  "scores"])
    return _with_derived(frame)


def _group(stance: str, score: float, n: int, rejected: int) -> list[tuple]:
    return [(stance, score, "reject" if i < rejected else "approve", None) for i in range(n)]


def test_neutrality_pools_band_gaps_with_mantel_haenszel_weights():
    rows = (_group("favor", 0.1, 10, 0) + _group("against", 0.1, 9, 0)
            # A moderator rejected one the model approved, and approved one the model rejected.
            + [("against", 0.15, "approve", "reject"), ("favor", 0.9, "reject", "approve")]
            + _group("favor", 0.9, 4, 4) + _group("against", 0.85, 5, 5)
            + _group("favor", 0.5, 3, 1) + _group("against", 0.5, 8, 4)  # too few in favor: shown, not pooled
            + [("neutral", 0.1, "reject", None), ("no article text", 0.95, "reject", None)])
    result = neutrality(_frame(rows))
    bands = result.bands.set_index("band")
    low, high, mid = bands.loc["0.0-0.2"], bands.loc["0.8-1.0"], bands.loc["0.4-0.6"]
    assert (low.n_favor, low.n_against, low.rejected_favor, low.rejected_against) == (10, 10, 0.0, 0.1)
    assert (high.n_favor, high.n_against, high.rejected_favor, high.rejected_against) == (5, 5, 0.8, 1.0)
    assert mid.gap == pytest.approx(0.5 - 1 / 3)
    # (5 * 0.1 + 2.5 * 0.2) / (5 + 2.5): weights n_a * n_f / (n_a + n_f); the 0.4-0.6 band has 3 in favor.
    assert result.pooled_gap == pytest.approx(1 / 7.5)
    assert result.compared == 30
    assert "dissenting comments are rejected more often" in result.verdict


def test_more_rejections_of_ruder_dissent_is_not_a_neutrality_gap():
    # Dissent is rejected more than twice as often overall, only because more of it scores high.
    rows = (_group("favor", 0.1, 30, 3) + _group("favor", 0.9, 10, 9)
            + _group("against", 0.1, 10, 1) + _group("against", 0.9, 30, 27))
    frame = _frame(rows)
    raw = frame.groupby("stance")["rejected"].mean()
    assert raw["against"] > 2 * raw["favor"]
    result = neutrality(frame)
    assert result.pooled_gap == pytest.approx(0.0)
    assert result.verdict.startswith("no difference")


def test_too_few_comments_with_a_stance_say_so():
    result = neutrality(_frame(_group("favor", 0.1, 30, 1) + _group("against", 0.1, 4, 1)))
    assert result.pooled_gap is None and "not enough" in result.verdict and "none has them" in result.verdict
    # One band with enough on each side is enough; a smaller one is shown but not pooled, and the page says so.
    enough = neutrality(_frame(_group("favor", 0.1, 5, 1) + _group("against", 0.1, 5, 1)
                               + _group("favor", 0.5, 2, 2) + _group("against", 0.5, 1, 0)))
    assert enough.pooled_gap == 0.0 and "shown but not counted" in enough.note


def _seed(app, site: str, article: str, n: int) -> None:
    """Stored comments with verdicts spread over three days, stances and scores varied."""
    engine = engine_of(app)
    stances = ["favor", "against", "neutral", "unrelated", None]
    with db.transaction(engine) as conn:
        for i in range(n):
            text = f"comment {i} on {article}"
            pk = db.save_comment(conn, site, f"{article}-{i}", text, article, None, f"u{i % 7}", "test")
            score = (i * 37 % 100) / 100
            db.insert_verdict(conn, pk, 1, text, {
                "action": "reject" if score >= 0.8 else ("hold" if score >= 0.4 else "approve"), "reasons": [],
                "scores": {"profanity": score / 2, "personal_attack": score, "incitement": score / 3},
                "stance": stances[i % 5], "stance_scores": None, "language": "en", "fallback": None,
                "model_version": "m", "policy_version": "p"})
            conn.execute(sa.update(db.comments).where(db.comments.c.id == pk)
                         .values(created_at=db.now() - timedelta(hours=3 * i)))


def test_comments_frame_reads_the_latest_verdicts(review_app):
    _seed(review_app, "gazette", "art-1", 20)
    with db.connect(engine_of(review_app)) as conn:
        frame = comments_frame(conn, "gazette", "art-1")
        assert len(frame) == 20 and set(frame["stance"]) == {"favor", "against", "neutral", "unrelated",
                                                             "no article text"}
        assert comments_frame(conn, "other-site").empty


@pytest.mark.parametrize("chart", ["stance", "violations", "neutrality"])
def test_charts_render_from_stored_verdicts(review_app, mod_client, chart):
    _seed(review_app, "gazette", "art-1", 30)
    _seed(review_app, "gazette", "art-2", 10)
    site = mod_client.get(f"/review/editors/sites/gazette/{chart}.png?days=all")
    assert site.status_code == 200 and site.mimetype == "image/png" and site.data.startswith(PNG)
    article = mod_client.get(f"/review/editors/sites/gazette/charts/{chart}/articles/art-1.png")
    assert article.status_code == 200 and article.data.startswith(PNG) and len(article.data) > 5000


def test_pages_list_sites_and_articles_and_escape_ids(review_app, mod_client):
    _seed(review_app, "gazette", "<script>alert(1)</script>", 6)
    index = mod_client.get("/review/editors/").get_data(as_text=True)
    assert "gazette" in index
    page = mod_client.get("/review/editors/sites/gazette/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert 'src="/review/editors/sites/gazette/neutrality.png?days=90"' in page
    assert mod_client.get("/review/editors/sites/gazette/?days=nope").status_code == 400
    for odd in ("%C2%B2", "%D9%A3", "00090"):  # "²" and Arabic-Indic three pass isdigit(); five digits
        assert mod_client.get(f"/review/editors/sites/gazette/?days={odd}").status_code == 400, odd
        assert mod_client.get(f"/review/editors/sites/gazette/stance.png?days={odd}").status_code == 400, odd
    assert mod_client.get("/review/editors/sites/gazette/pie.png").status_code == 404


@pytest.mark.parametrize("site", ["news/uk", "a~b", "a~s", "/lead/", "~", ".", "..", "a~d"])
def test_a_site_id_holding_a_slash_or_a_tilde_has_reachable_pages(review_app, mod_client, site):
    _seed(review_app, site, "art/1", 6)
    _seed(review_app, "news", "art-2", 6)  # the site "news/uk" is not read as "news" and the rest
    index = mod_client.get("/review/editors/").get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)">' + re.escape(html.escape(site)) + "</a>", index).group(1)
    page = mod_client.get(link)
    assert page.status_code == 200, link
    text = page.get_data(as_text=True)
    assert f"site {html.escape(site)}" in text and "(6 comments)" in text
    for src in re.findall(r'<img src="([^"]+)"', text):
        assert mod_client.get(html.unescape(src)).data.startswith(PNG), src
    article = re.search(r'<a href="([^"]+/articles/[^"]+)">', text).group(1)
    answer = mod_client.get(article)
    assert answer.status_code == 200 and "art/1" in answer.get_data(as_text=True)


@pytest.mark.parametrize("article", ["/news/2024/story", "a/", "/", "plain-id"])
def test_an_article_id_starting_or_ending_with_a_slash_has_reachable_pages(review_app, mod_client, article):
    _seed(review_app, "news", article, 6)
    text = mod_client.get("/review/editors/sites/news/").get_data(as_text=True)
    link = re.search(r'<a href="([^"]+/articles/[^"]+)">', text).group(1)
    answer = mod_client.get(html.unescape(link))
    assert answer.status_code == 200, link
    page = answer.get_data(as_text=True)
    assert html.escape(article) in page and "6 comments" in page
    for src in re.findall(r'<img [^>]*src="([^"]+)"', page):
        assert mod_client.get(html.unescape(src)).data.startswith(PNG), src


def test_a_link_made_before_article_ids_were_escaped_still_reaches_its_article(review_app, mod_client):
    _seed(review_app, "news", "news/2024/story", 3)
    assert mod_client.get("/review/editors/sites/news/articles/news/2024/story/").status_code == 200


def test_the_site_page_says_which_articles_it_lists_and_offers_other_windows(review_app, mod_client, monkeypatch):
    for k in range(4):
        _seed(review_app, "news", f"art-{k}", 3 + k)
    import webhook.editors as editors

    articles = editors.articles
    monkeypatch.setattr(editors, "articles", lambda frame, limit=50: articles(frame, 2))
    text = mod_client.get("/review/editors/sites/news/?days=30").get_data(as_text=True)
    assert "The 2 of 4 articles with the most comments in the last 30 days" in text
    assert "<strong>30 days</strong>" in text and "times are UTC" in text
    assert re.search(r'<a href="[^"]*days=all">all time</a>', text)


def test_a_plain_tilde_in_an_old_link_still_reaches_its_site(review_app, mod_client):
    _seed(review_app, "a~b", "art-1", 3)
    assert mod_client.get("/review/editors/sites/a~b/").status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(review_app):
    response = review_app.test_client().get("/review/editors/sites/gazette/stance.png")
    assert response.status_code == 302 and "/review/login" in response.headers["Location"]


def test_an_empty_site_still_draws_a_chart():
    assert render_chart(_frame([]), "stance", "nothing").startswith(PNG)


@pytest.mark.parametrize("chart", ["stance", "violations", "neutrality"])
def test_a_dollar_sign_in_an_id_is_drawn_as_text_not_read_as_mathematics(chart):
    frame = _frame(_group("favor", 0.7, 30, 5) + _group("against", 0.7, 30, 10))
    assert render_chart(frame, chart, "article a-$x^{$ on site $s$").startswith(PNG)


def test_the_exported_report_has_charts_and_tables(review_app, tmp_path):
    _seed(review_app, "gazette", "art-1", 25)
    written = write_report(engine_of(review_app), tmp_path / "editors")
    text = written[0].read_text()
    assert "# Reader reaction: gazette" in text and "## Article art-1 (25 comments)" in text
    assert "| band | in favor (n) | rejected (in favor) | against (n) | rejected (against) |" in text
    assert "![Stance mix over time, as stacked bars. In all: " in text
    pngs = sorted(p.name for p in (tmp_path / "editors" / "gazette").glob("*.png"))
    assert "site-neutrality.png" in pngs and "article-art-1-stance.png" in pngs
    assert all((tmp_path / "editors" / "gazette" / p).read_bytes().startswith(PNG) for p in pngs)
    assert "<h1>Reader reaction: gazette</h1>" in (tmp_path / "editors" / "gazette" / "index.html").read_text()


def test_the_report_has_every_chart_s_table_and_heads_articles_by_their_titles(review_app, tmp_path):
    _seed(review_app, "gazette", "art-1", 25)
    with db.transaction(engine_of(review_app)) as conn:
        db.upsert_article(conn, "gazette", "art-1", "Council approves cycle lanes", "Body.", None, "test")
    text = write_report(engine_of(review_app), tmp_path / "editors")[0].read_text()
    period = re.search(r"^\| ((?:hour|day|week) \(UTC\)) \| favor \|", text, re.MULTILINE)
    assert period, text[:2000]  # the stance mix per period, as on the page
    assert re.search(rf"^\| {re.escape(period[1])} \| comments \| profanity \| personal_attack \| incitement \| rejected", text,
                     re.MULTILINE)  # the violation rates per period
    assert text.count("| band | in favor (n) |") == 2  # site and article: the neutrality tables
    assert "## Council approves cycle lanes (article art-1, 25 comments)" in text
    html_page = (tmp_path / "editors" / "gazette" / "index.html").read_text()
    assert "<h2>Council approves cycle lanes (article art-1, 25 comments)</h2>" in html_page
    assert html_page.count("<table>") == 6


def test_the_report_runs_from_the_package_command_line(review_app, tmp_path, capsys):
    from webhook.__main__ import main

    assert main([]) == 2 and "editors-report" in capsys.readouterr().err
    _seed(review_app, "gazette", "art-1", 6)
    url = engine_of(review_app).url.render_as_string(hide_password=False)
    assert main(["editors-report", "--database", url, "--output", str(tmp_path / "out")]) == 0
    assert "wrote" in capsys.readouterr().out and (tmp_path / "out" / "gazette" / "README.md").is_file()


def test_ids_that_read_alike_get_files_of_their_own_and_stay_text_in_markdown(review_app, tmp_path):
    for site, article in (("été", "a/b"), ("ôté", "a b"), ("ôté", "tax<b>&$x")):  # both sites read "t" once cut
        _seed(review_app, site, article, 6)
    written = write_report(engine_of(review_app), tmp_path / "editors")
    assert len(written) == len(set(written)) == 2 and all(p.is_file() for p in written)
    texts = {p.read_text().splitlines()[0]: p.read_text() for p in written}
    assert set(texts) == {"# Reader reaction: été", "# Reader reaction: ôté"}
    second = texts["# Reader reaction: ôté"]
    assert "## Article tax\\<b\\>\\&\\$x (6 comments)" in second and "<b>" not in second
    charts = sorted(p.name for p in written[0].parent.parent.glob("*/article-*-stance.png"))
    assert len(charts) == 3 and len(set(charts)) == 3  # a/b, "a b" and the third: one chart each


def test_the_report_refuses_an_unknown_site_an_unwritable_folder_and_a_negative_count(review_app, tmp_path, capsys):
    from webhook.__main__ import main

    _seed(review_app, "gazette", "art-1", 6)
    url = engine_of(review_app).url.render_as_string(hide_password=False)
    assert main(["editors-report", "--database", url, "--output", str(tmp_path / "out"), "--site", "nosuch"]) == 2
    assert "no comments stored for site 'nosuch' (--site): nothing was written" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert main(["editors-report", "--database", url, "--output", "/proc/no-such-folder"]) == 2
    assert "cannot write the report under /proc/no-such-folder (--output)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["editors-report", "--database", url, "--articles", "-1"])
    assert "must be 0 or more, got -1" in capsys.readouterr().err


def test_the_report_refuses_a_missing_database_without_creating_it(tmp_path, capsys):
    from webhook.__main__ import main

    typo = tmp_path / "typo.sqlite"
    assert main(["editors-report", "--database", f"sqlite:///{typo}", "--output", str(tmp_path / "out")]) == 2
    assert f"no database at {typo}" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [], "no empty database (nor report folder) left behind"


def test_the_report_refuses_a_database_without_the_service_s_tables(tmp_path, capsys):
    from webhook.__main__ import main

    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (id INTEGER)")
    conn.close()
    assert main(["editors-report", "--database", f"sqlite:///{other}", "--output", str(tmp_path / "out")]) == 2
    assert "holds no moderation tables" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_old_entry_point_names_the_new_command():
    done = subprocess.run([sys.executable, "-m", "webhook.editors"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 2 and "python -m webhook editors-report" in done.stderr


def test_pages_show_article_titles_and_link_back(review_app, mod_client):
    _seed(review_app, "gazette", "art-1", 6)
    _seed(review_app, "gazette", "987654", 3)  # no title stored: the id stands in
    with db.transaction(engine_of(review_app)) as conn:
        db.upsert_article(conn, "gazette", "art-1", "Council approves new <cycle> lanes", "body", None, "test")
    listing = mod_client.get("/review/editors/sites/gazette/").get_data(as_text=True)
    assert '/articles/art-1/">Council approves new &lt;cycle&gt; lanes</a> <span class="muted">art-1</span>' in listing
    assert '/articles/987654/">987654</a> (3 comments)' in listing
    page = mod_client.get("/review/editors/sites/gazette/articles/art-1/").get_data(as_text=True)
    assert "<h1>Reader reaction: Council approves new &lt;cycle&gt; lanes</h1>" in page
    assert '<a href="/review/editors/sites/gazette/">site gazette</a>' in page
    assert 'href="/review/queue/pending?site_id=gazette&amp;article_id=art-1"' in page


@pytest.mark.parametrize("path", ["/review/editors/sites/nosuchsite/", "/review/editors/sites/nosuchsite/stance.png",
                                  "/review/editors/sites/gazette/articles/nosuch/",
                                  "/review/editors/sites/gazette/charts/stance/articles/nosuch.png"])
def test_an_unknown_site_or_article_is_a_404_not_an_empty_page(review_app, mod_client, path):
    _seed(review_app, "gazette", "art-1", 3)
    response = mod_client.get(path)
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "nosuch" in response.get_data(as_text=True)


def test_a_stored_article_without_comments_is_an_empty_page(review_app, mod_client):
    with db.transaction(engine_of(review_app)) as conn:
        db.upsert_article(conn, "quiet", "a-1", "Nobody read this", "body", None, "test")
    assert mod_client.get("/review/editors/sites/quiet/").status_code == 200
    page = mod_client.get("/review/editors/sites/quiet/articles/a-1/")
    assert page.status_code == 200 and "0 comments" in page.get_data(as_text=True)


def test_the_charts_have_text_alternatives(review_app, mod_client):
    _seed(review_app, "gazette", "art-1", 10)  # stances favor, against, neutral, unrelated, none in turn
    page = mod_client.get("/review/editors/sites/gazette/").get_data(as_text=True)
    assert 'alt="Stance mix over time, as stacked bars. In all: favor 2, against 2, neutral 2, unrelated 2, ' \
           'no article text 2."' in page
    assert re.search(r'alt="Violation rates by label over time, as lines\. In all, scoring 0\.5 or more: '
                     r'profanity \d+%, personal_attack \d+%, incitement \d+%; rejected \d+%\."', page)
    assert "<caption>Comments by stance toward the article, per hour (UTC)</caption>" in page
    assert "<caption>Share of comments scoring 0.5 or more for each label, and share rejected, per hour (UTC)" in page
    headers = re.findall(r'<th scope="col">([^<]+)</th>', page.split("Rejection rate by stance, per band")[1])
    assert headers[:6] == ["band", "in favor (n)", "rejected (in favor)", "against (n)", "rejected (against)",
                           "gap (against - favor)"]
    stance_rows = re.findall(r'<tr><th scope="row">[^<]+</th>((?:<td>\d+</td>){6})</tr>', page)
    assert sum(int(row.split("</td>")[-2].removeprefix("<td>")) for row in stance_rows) == 10


def test_the_header_links_the_editors_pages_and_counts_the_queues(review_app, mod_client, seed):
    seed("held", "You idiot.")
    _seed(review_app, "gazette", "art-1", 3)
    queue = mod_client.get("/review/queue/pending").get_data(as_text=True)  # brings the verdicts in first
    counts = re.findall(r'data-queue="(\w+)">(\d+)</span>', queue)
    assert len(counts) == 4 and dict(counts)["pending"] == "2"
    for path in ("/review/editors/", "/review/editors/sites/gazette/", "/review/audit",
                 "/review/editors/sites/nosuch/"):
        page = mod_client.get(path).get_data(as_text=True)
        assert '<a href="/review/editors/"' in page, path
        assert re.findall(r'data-queue="(\w+)">(\d+)</span>', page) == counts, path


def test_an_editor_reads_the_editors_pages_and_nothing_else(review_app, editor_client, seed):
    _seed(review_app, "gazette", "art-1", 4)
    seed("held", "You idiot.")
    home = editor_client.get("/review/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/review/editors/")
    page = editor_client.get("/review/editors/sites/gazette/articles/art-1/").get_data(as_text=True)
    assert "Reader reaction" in page and 'href="/review/editors/"' in page
    assert "data-queue=" not in page and "Audit log" not in page and "review queue</a>" not in page
    assert editor_client.get("/review/editors/sites/gazette/stance.png").status_code == 200
    for path in ("/review/queue/pending", "/review/audit", "/review/comment?site_id=default&comment_id=held",
                 "/review/author?site_id=default&author_id=u1"):
        response = editor_client.get(path)
        assert response.status_code == 403 and "Editors can read the editors&#39; pages only" in response.get_data(
            as_text=True), path
    assert editor_client.get("/review/admin/users").status_code == 403
    with db.connect(engine_of(review_app)) as conn:
        item = conn.execute(sa.select(db.review_items)).first()._asdict()
    decided = editor_client.post(f"/review/items/{item['id']}/decide", data={
        "csrf_token": editor_client.csrf, "verdict_id": item["verdict_id"], "decision": "approve"})
    assert decided.status_code == 403
    for path, data in (("/review/bulk", {"item": f"{item['id']}:{item['verdict_id']}", "decision": "approve"}),
                       ("/review/author/status", {"site_id": "default", "author_id": "u1", "status": "blocked"})):
        assert editor_client.post(path, data={"csrf_token": editor_client.csrf, **data}).status_code == 403
    with db.connect(engine_of(review_app)) as conn:
        assert conn.execute(sa.select(db.review_items.c.decision)).scalar() is None
        assert conn.execute(sa.select(sa.func.count()).select_from(db.authors)).scalar() == 0


def test_an_advert_rejected_for_spam_is_banded_by_its_spam_score_not_read_as_clean_dissent():
    """Spam scores join the violation score: an advert that argues against the article and is rejected for
    spam sits in the top band, not among clean comments; verdicts of a model without spam keep their band."""
    rows = _group("favor", 0.1, 10, 0) + _group("against", 0.1, 10, 0) + _group("favor", 0.9, 5, 5)
    frame = _frame(rows + _group("against", 0.0, 5, 5))
    for i in frame.index[-5:]:
        frame.at[i, "scores"] = {"profanity": 0.0, "personal_attack": 0.0, "incitement": 0.0, "spam": 0.99}
    frame = _with_derived(frame.drop(columns=["profanity", "personal_attack", "incitement", "violation", "rejected",
                                              "outcome", *(["spam"] if "spam" in frame else [])]))
    bands = neutrality(frame).bands.set_index("band")
    assert bands.loc["0.0-0.2"].rejected_against == 0.0  # the adverts are not among the clean comments
    assert bands.loc["0.8-1.0"].n_against == 5 and bands.loc["0.8-1.0"].rejected_against == 1.0
    assert neutrality(frame).pooled_gap == pytest.approx(0.0)
    rates = violation_rates(frame)
    assert "spam" in rates and rates["spam"].sum() > 0
    # the spam rate is over the comments scored for spam (the 5 adverts here), not over older verdicts too
    scored = frame["spam"].notna()
    assert scored.sum() == 5 and rates["spam"].dropna().eq(1.0).all()
    assert "spam 100%" in alt_texts(frame, neutrality(frame))["violations"]
    assert "spam" not in violation_rates(_frame(rows))  # no verdict has a spam score: no spam line
