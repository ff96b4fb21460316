"""Editors' view of reader reaction, from stored verdicts: per site and per article.

- stance mix of comments over time (favor / against / neutral / unrelated / no article text);
- violation rates by label (share of comments whose score reaches 0.5), over time;
- rejection rate by stance, with a viewpoint-neutrality check: within the same band of violation
  score (the highest of the policy labels' and spam's scores), are comments *against* the article rejected more often
  than comments in *favor*? The bands' differences are pooled with Mantel-Haenszel weights
  (``n_against * n_favor / (n_against + n_favor)``), so a site that rejects more dissent only
  because dissent is ruder does not look biased, and one that rejects dissent at equal scores does.

The outcome of a comment is the moderator's decision when there is one (review queue), else the
verdict's action. Charts are PNGs drawn with matplotlib's object API (no pyplot state, safe in a
server). Served in the review web app under ``/review/editors/...`` for signed-in users (editors
too), and exported by ``make editors-report`` (``python -m webhook editors-report``) to ``reports/editors/``.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import io
import itertools
import os
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template, request, url_for

from moderation.labels import OTHER_LABELS, POLICY_LABELS, STANCES
from review.auth import signed_in_required

from . import db

if TYPE_CHECKING:  # pandas is imported where frames are built: a service worker that never draws a
    import pandas as pd  # chart does not pay its memory (about 45 MB)

__all__ = ["BANDS", "Neutrality", "alt_texts", "bp", "chart_tables", "comments_frame", "main", "neutrality",
           "render_chart", "write_report"]

BANDS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0001)
CHARTS = ("stance", "violations", "neutrality")
_NO_STANCE = "no article text"
_FLAG_GAP = 0.05  # pooled difference in rejection rate that the report calls out
_MIN_PER_GROUP = 5  # comments per stance in a band before that band counts


# Data -----------------------------------------------------------------------------------------------
def comments_frame(conn, site_id: str, article_id: str | None = None, since: datetime | None = None) -> pd.DataFrame:
    """One row per comment of a site (or article): its latest verdict, stance, scores and final outcome."""
    import pandas as pd

    latest = (sa.select(db.verdicts.c.comment_pk, sa.func.max(db.verdicts.c.version).label("version"))
              .group_by(db.verdicts.c.comment_pk).subquery())
    v, c, r = db.verdicts, db.comments, db.review_items
    judged = db.verdicts.alias("judged")  # the verdict the review item (and a moderator's decision) is on
    # The queue takes a new verdict in when a moderator next opens it (``review.queue.sync``), keeping the
    # decision when the text is the same: so does this, so that a comment judged again since (the CMS sending
    # it once more, its article now known) keeps its moderator's decision here before the queue has synced.
    decision = sa.case((sa.or_(r.c.verdict_id == v.c.id, judged.c.text_sha256 == v.c.text_sha256), r.c.decision),
                       else_=None).label("decision")
    query = (sa.select(c.c.comment_id, c.c.article_id, c.c.created_at, v.c.action, v.c.stance, v.c.scores,
                       v.c.fallback, decision)
             .join(latest, latest.c.comment_pk == c.c.id)
             .join(v, sa.and_(v.c.comment_pk == latest.c.comment_pk, v.c.version == latest.c.version))
             .outerjoin(r, r.c.comment_pk == c.c.id)
             .outerjoin(judged, judged.c.id == r.c.verdict_id)
             .where(c.c.site_id == site_id))
    if article_id is not None:
        query = query.where(c.c.article_id == article_id)
    if since is not None:
        query = query.where(c.c.created_at >= since)
    rows = [row._asdict() for row in conn.execute(query)]
    frame = pd.DataFrame(rows, columns=["comment_id", "article_id", "created_at", "action", "stance", "scores",
                                        "fallback", "decision"])
    return _with_derived(frame)


SCORED_LABELS = POLICY_LABELS + OTHER_LABELS


def _rated_labels(frame: pd.DataFrame) -> list[str]:
    """The labels to chart: the policy labels, and spam where some verdict has a spam score."""
    return [label for label in SCORED_LABELS if label in POLICY_LABELS or frame[label].notna().any()]


def _flagged(frame: pd.DataFrame, label: str) -> pd.Series:
    """Whether each comment's ``label`` score reaches 0.5; for spam, unknown (NaN) where the verdict's model had
    no spam head, so its rate is over the comments scored for it (a policy label missing counts as not reached)."""
    flagged = frame[label] >= 0.5
    return flagged.astype(float).where(frame[label].notna()) if label in OTHER_LABELS else flagged


def _with_derived(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["outcome"] = frame["decision"].where(frame["decision"].notna(), frame["action"])
    frame["stance"] = frame["stance"].fillna(_NO_STANCE)
    for label in SCORED_LABELS:
        frame[label] = [float((s or {}).get(label, np.nan)) if isinstance(s, dict) else np.nan for s in frame["scores"]]
    # The highest score a rejection can rest on: spam too (NaN, so left out, for verdicts of a model without
    # the spam head), so an advert rejected at an abuse score of zero is not counted as clean comment rejected.
    frame["violation"] = frame[list(SCORED_LABELS)].max(axis=1)
    frame["rejected"] = frame["outcome"] == "reject"
    return frame


def sites(conn) -> list[tuple[str, int]]:
    """Sites with stored comments, and how many each has."""
    query = sa.select(db.comments.c.site_id, sa.func.count()).group_by(db.comments.c.site_id).order_by(db.comments.c.site_id)
    return [(site, n) for site, n in conn.execute(query)]


def articles(frame: pd.DataFrame, limit: int = 50) -> list[tuple[str, int]]:
    """The site's articles with the most comments first."""
    counts = frame.dropna(subset=["article_id"]).groupby("article_id").size().sort_values(ascending=False)
    return [(str(a), int(n)) for a, n in counts.head(limit).items()]


# Numbers --------------------------------------------------------------------------------------------
@dataclass
class Neutrality:
    """Rejection rates of comments against and in favor of the article, band by band, and pooled."""

    bands: pd.DataFrame
    pooled_gap: float | None
    compared: int

    @property
    def verdict(self) -> str:
        if self.pooled_gap is None:
            return ("not enough comments with a stance to compare: a band of violation scores needs "
                    f"{_MIN_PER_GROUP} against and {_MIN_PER_GROUP} in favor, and none has them")
        gap = self.pooled_gap
        if gap > _FLAG_GAP:
            return (f"dissenting comments are rejected more often than agreeing ones at the same violation scores "
                    f"(+{gap:.1%} pooled): review the decisions")
        if gap < -_FLAG_GAP:
            return ("agreeing comments are rejected more often than dissenting ones at the same violation scores "
                    f"({gap:.1%} pooled)")
        return f"no difference beyond {_FLAG_GAP:.0%} at the same violation scores ({gap:+.1%} pooled)"

    @property
    def note(self) -> str:
        """What the pooled gap leaves out: bands with fewer than the minimum on either side."""
        return (f"The pooled gap uses only the bands with {_MIN_PER_GROUP} or more comments on each side; "
                "a smaller band's gap is shown but not counted.")

    def as_dict(self) -> dict:
        return {"pooled_gap": self.pooled_gap, "compared": self.compared, "verdict": self.verdict,
                "bands": self.bands.replace({np.nan: None}).to_dict("records")}


def neutrality(frame: pd.DataFrame) -> Neutrality:
    """Rejection rate by stance within violation-score bands, and the Mantel-Haenszel pooled gap (against - favor)."""
    import pandas as pd

    scored = frame.dropna(subset=["violation"])
    names = [f"{a:.1f}-{min(b, 1):.1f}" for a, b in itertools.pairwise(BANDS)]
    band = pd.cut(scored["violation"], BANDS, right=False, labels=names)
    rows, weighted, weights, compared = [], 0.0, 0.0, 0
    for name in band.cat.categories:
        part = scored[band == name]
        row = {"band": str(name)}
        for stance in STANCES:
            group = part[part["stance"] == stance]
            row[f"n_{stance}"] = len(group)
            row[f"rejected_{stance}"] = float(group["rejected"].mean()) if len(group) else np.nan
        n_a, n_f = row["n_against"], row["n_favor"]
        row["gap"] = row["rejected_against"] - row["rejected_favor"] if n_a and n_f else np.nan
        if n_a >= _MIN_PER_GROUP and n_f >= _MIN_PER_GROUP:
            w = n_a * n_f / (n_a + n_f)
            weighted += w * row["gap"]
            weights += w
            compared += n_a + n_f
        rows.append(row)
    return Neutrality(pd.DataFrame(rows), weighted / weights if weights else None, compared)


def _bucket(times: pd.Series) -> str:
    span = times.max() - times.min() if len(times) else timedelta(0)
    return "h" if span <= timedelta(days=2) else ("D" if span <= timedelta(days=60) else "W")


def _when(frame: pd.DataFrame) -> pd.Series:
    """Each comment's time bucket: hours for two days of comments, days up to two months, else weeks."""
    import pandas as pd

    times = pd.to_datetime(frame["created_at"])
    freq = _bucket(times)
    return times.dt.to_period("W").dt.start_time if freq == "W" else times.dt.floor(freq)


def stance_mix(frame: pd.DataFrame) -> pd.DataFrame:
    """Comments per time bucket and stance."""
    import pandas as pd

    if frame.empty:
        return pd.DataFrame()
    table = pd.crosstab(_when(frame), frame["stance"])
    return table.reindex(columns=[s for s in (*STANCES, _NO_STANCE) if s in table.columns])


def violation_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """Share of comments per time bucket whose label score reaches 0.5, per policy label, plus rejections."""
    import pandas as pd

    if frame.empty:
        return pd.DataFrame()
    flags = pd.DataFrame({label: _flagged(frame, label) for label in _rated_labels(frame)})
    flags["rejected (outcome)"] = frame["rejected"]
    return flags.groupby(_when(frame).values).mean()


# Charts ---------------------------------------------------------------------------------------------
_COLOURS = {"favor": "#2e86c1", "against": "#c0392b", "neutral": "#95a5a6", "unrelated": "#d5d8dc",
            _NO_STANCE: "#f4f6f6"}


def _figure(width=7.5, height=3.6):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=90)


def _png(fig) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def render_chart(frame: pd.DataFrame, chart: str, title: str) -> bytes:
    """One chart (``stance``, ``violations`` or ``neutrality``) of a comments frame, as PNG bytes."""
    import matplotlib

    # Titles hold site and article ids, which the CMS chose: "a-$x^{$" is an id, not mathematics.
    with matplotlib.rc_context({"text.parse_math": False}):
        return _render_chart(frame, chart, title)


def _render_chart(frame: pd.DataFrame, chart: str, title: str) -> bytes:
    fig = _figure()
    ax = fig.add_subplot()
    if frame.empty:
        _empty(ax, "no comments stored yet")
    elif chart == "stance":
        _draw_stance(ax, stance_mix(frame), title)
    elif chart == "violations":
        _draw_violations(ax, violation_rates(frame), title)
    elif chart == "neutrality":
        _draw_neutrality(ax, neutrality(frame), title)
    else:
        raise ValueError(f"unknown chart {chart!r}: one of {', '.join(CHARTS)}")
    fig.tight_layout()
    return _png(fig)


def _draw_stance(ax, table: pd.DataFrame, title: str) -> None:
    x = np.arange(len(table))
    bottom = np.zeros(len(table))
    for stance in table.columns:
        ax.bar(x, table[stance].to_numpy(), bottom=bottom, label=stance, color=_COLOURS.get(stance), edgecolor="#888888",
               linewidth=0.3)
        bottom += table[stance].to_numpy()
    hourly = any(t.hour for t in table.index)
    step = max(1, len(table) // 30)
    ax.set_xticks(x, [t.strftime("%d %b %H:%M" if hourly else "%d %b") if i % step == 0 else ""
                      for i, t in enumerate(table.index)], rotation=45, ha="right", fontsize=7)
    ax.set(ylabel="comments", xlabel="UTC", title=f"Stance mix over time: {title}")
    ax.legend(fontsize=7, ncols=2)


def _draw_violations(ax, rates: pd.DataFrame, title: str) -> None:
    for column in rates.columns:
        ax.plot(rates.index, rates[column].to_numpy(), marker="o", label=column,
                linestyle="--" if column.startswith("rejected") else "-")
    ax.set_ylim(0, 1)
    ax.set(ylabel="share of comments (score >= 0.5)", xlabel="UTC", title=f"Violation rates by label: {title}")
    ax.tick_params(axis="x", labelsize=7, rotation=30)
    ax.legend(fontsize=7)


def _draw_neutrality(ax, result: Neutrality, title: str) -> None:
    table = result.bands
    x = np.arange(len(table))
    for offset, stance in ((-0.2, "favor"), (0.2, "against")):
        values = table[f"rejected_{stance}"].fillna(0).to_numpy()
        bars = ax.bar(x + offset, values, 0.4, label=stance, color=_COLOURS[stance])
        for bar, n in zip(bars, table[f"n_{stance}"]):
            ax.annotate(f"n={n}", (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom",
                        fontsize=6)
    ax.set_xticks(x, table["band"])
    ax.set_ylim(0, 1.1)
    gap = "n/a" if result.pooled_gap is None else f"{result.pooled_gap:+.1%}"
    ax.set(xlabel="violation score band (highest policy-label or spam score)", ylabel="rejected",
           title=f"Rejection rate by stance: {title} (pooled gap against - favor: {gap})")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7)


# The charts in words ----------------------------------------------------------------------------------
_PERIODS = {"h": "hour (UTC)", "D": "day (UTC)", "W": "week (UTC)"}  # times are stored in UTC
_NEUTRALITY_HEADER = ("band", "in favor (n)", "rejected (in favor)", "against (n)", "rejected (against)",
                      "gap (against - favor)")


def _times(index) -> list[str]:
    hourly = any(t.hour or t.minute for t in index)
    return [t.strftime("%Y-%m-%d %H:%M" if hourly else "%Y-%m-%d") for t in index]


def _neutrality_rows(result: Neutrality) -> list[tuple[str, list]]:
    return [(b["band"], [b["n_favor"], _pct(b["rejected_favor"]), b["n_against"], _pct(b["rejected_against"]),
                         _pct(b["gap"])]) for b in result.bands.to_dict("records")]


def chart_tables(frame: pd.DataFrame, result: Neutrality) -> dict:
    """Each chart's numbers as a table ({"header", "rows": [(row label, cells)]}), for readers who cannot see it."""
    import pandas as pd

    mix, rates = stance_mix(frame), violation_rates(frame)
    period = _PERIODS[_bucket(pd.to_datetime(frame["created_at"]))] if len(frame) else "day"
    counts = frame.groupby(_when(frame).values).size() if len(frame) else pd.Series(dtype=int)
    return {
        "period": period,
        "stance": {"header": [period, *mix.columns, "all"],
                   "rows": [(when, [*map(int, row), int(sum(row))]) for when, row in zip(_times(mix.index),
                                                                                          mix.to_numpy())]},
        "violations": {"header": [period, "comments", *rates.columns],
                       "rows": [(when, [int(counts.get(t, 0)), *map(_pct, row)])
                                for when, t, row in zip(_times(rates.index), rates.index, rates.to_numpy())]},
        "neutrality": {"header": list(_NEUTRALITY_HEADER), "rows": _neutrality_rows(result)},
    }


def alt_texts(frame: pd.DataFrame, result: Neutrality) -> dict[str, str]:
    """What each chart shows, in a sentence with its totals: the charts' text alternatives."""
    if frame.empty:
        return {chart: f"{chart} chart: no comments stored yet" for chart in CHARTS}
    stances = frame["stance"].value_counts()
    mix = ", ".join(f"{s} {int(stances[s])}" for s in (*STANCES, _NO_STANCE) if s in stances)
    rates = ", ".join(f"{label} {_pct(_flagged(frame, label).mean())}" for label in _rated_labels(frame))
    return {
        "stance": f"Stance mix over time, as stacked bars. In all: {mix}.",
        "violations": f"Violation rates by label over time, as lines. In all, scoring 0.5 or more: {rates}; "
                      f"rejected {_pct(frame['rejected'].mean())}.",
        "neutrality": f"Rejection rate of comments in favor and against, per violation-score band: {result.verdict}.",
    }


# The review web app's pages -------------------------------------------------------------------------
bp = Blueprint("editors", __name__, url_prefix="/editors")


def _pct(value) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.0%}"


def _days() -> int | None:
    days = request.args.get("days", "90")
    if days in ("", "all"):
        return None
    if not re.fullmatch(r"[0-9]{1,4}", days) or not 0 < int(days) <= 3650:  # ASCII digits: "²".isdigit() is true
        abort(400, "days must be a whole number from 1 to 3650, or all")
    return int(days)


def _engine() -> sa.Engine:
    return current_app.extensions["moderation"].engine


def _since(days: int | None) -> datetime | None:
    return db.now() - timedelta(days=days) if days else None


def _frame(site_id: str, article_id: str | None, days: int | None) -> pd.DataFrame:
    with db.connect(_engine()) as conn:
        return comments_frame(conn, site_id, article_id, _since(days))


def _require_site(conn, site_id: str) -> None:
    """A 404 for a site with no comment and no article stored: a mistyped id is not an empty site."""
    for table in (db.comments, db.articles):
        if conn.execute(sa.select(table.c.site_id).where(table.c.site_id == site_id).limit(1)).first():
            return
    abort(404, f"No comments or articles are stored for site {site_id!r}.")


def _stored_article(site_id: str, article_id: str, frame: pd.DataFrame) -> dict:
    """The article as stored (its title); a 404 when neither it nor a comment on it is."""
    with db.connect(_engine()) as conn:
        stored = db.articles_by_id(conn, site_id, [article_id]).get(article_id)
    if stored is None and frame.empty:
        abort(404, f"No comments on article {article_id!r} of site {site_id!r} are stored, nor the article.")
    return stored or {}


def _png_response(data: bytes):
    return current_app.response_class(data, mimetype="image/png", headers={"Cache-Control": "private, max-age=60"})


def _render(frame: pd.DataFrame, **page):
    result = neutrality(frame)
    return render_template("review/editors.html", sites=None, n=len(frame), result=result, editors=True,
                           tables=chart_tables(frame, result), alt=alt_texts(frame, result), **page)


@bp.get("/")
@signed_in_required
def index():
    with db.connect(_engine()) as conn:
        return render_template("review/editors.html", title="all sites", sites=sites(conn), editors=True)


@bp.get("/sites/<segment:site_id>/")
@signed_in_required
def site(site_id: str):
    days = _days()
    with db.connect(_engine()) as conn:
        _require_site(conn, site_id)
        frame = comments_frame(conn, site_id, None, _since(days))
        listed = articles(frame)
        stored = db.articles_by_id(conn, site_id, [a for a, _ in listed])
    return _render(frame, title=f"site {site_id}", days=days, site_id=site_id,
                   crumbs=[("all sites", url_for("editors.index"))],
                   article_list=[(a, (stored.get(a) or {}).get("title"), n) for a, n in listed],
                   n_articles=int(frame["article_id"].nunique()) if len(frame) else 0,
                   windows=[(label, url_for("editors.site", site_id=site_id, days=value), value == str(days or "all"))
                            for label, value in (("7 days", "7"), ("30 days", "30"), ("90 days", "90"), ("all time", "all"))],
                   chart_url=lambda c: url_for("editors.site_chart", site_id=site_id, chart=c, days=days or "all"))


@bp.get("/sites/<segment:site_id>/<chart>.png")
@signed_in_required
def site_chart(site_id: str, chart: str):
    if chart not in CHARTS:
        abort(404)
    days = _days()
    with db.connect(_engine()) as conn:
        _require_site(conn, site_id)
        frame = comments_frame(conn, site_id, None, _since(days))
    return _png_response(render_chart(frame, chart, site_id))


# An article id is one escaped path segment (``~s`` for "/", as site ids): an id that starts or ends with "/" has
# a link that works. The plain path rule still reads links made before, with "/" as written inside an id.
@bp.get("/sites/<segment:site_id>/articles/<path:article_id>/")  # registered last (decorators apply upwards)
@bp.get("/sites/<segment:site_id>/articles/<segment:article_id>/")  # first: the one url_for builds
@signed_in_required
def article(site_id: str, article_id: str):
    frame = _frame(site_id, article_id, None)
    title = _stored_article(site_id, article_id, frame).get("title") or article_id
    return _render(frame, title=title, subtitle=f"article {article_id} on site {site_id}" if title != article_id
                   else f"on site {site_id}", days=None, site_id=site_id, article_list=[],
                   crumbs=[("all sites", url_for("editors.index")),
                           (f"site {site_id}", url_for("editors.site", site_id=site_id))],
                   queue_url=url_for("queue.show", name="pending", site_id=site_id, article_id=article_id),
                   chart_url=lambda c: url_for("editors.article_chart", site_id=site_id, article_id=article_id, chart=c))


@bp.get("/sites/<segment:site_id>/charts/<chart>/articles/<path:article_id>.png")
@bp.get("/sites/<segment:site_id>/charts/<chart>/articles/<segment:article_id>.png")
@signed_in_required
def article_chart(site_id: str, chart: str, article_id: str):
    if chart not in CHARTS:
        abort(404)
    frame = _frame(site_id, article_id, None)
    _stored_article(site_id, article_id, frame)  # a 404 for an unknown one
    return _png_response(render_chart(frame, chart, article_id))


# The exportable report ------------------------------------------------------------------------------
def _slug(text: str, taken: dict[str, str]) -> str:
    """A file name for an id, unique among ``taken`` (name -> id): the id itself where it is a safe one,
    else its safe characters and a hash of the whole id, so that ids that read alike once the rest is
    dropped ("日本" and "中国", "a/b" and "a b") never share a file."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:60]
    name = text if readable == text else None
    if name is None or taken.get(name, text) != text:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        name = f"{readable}-{digest}" if readable else digest
    taken[name] = text
    return name


def _md(text: str) -> str:
    """An id in Markdown: as text, never markup (ids come from the CMS)."""
    return re.sub(r"([\\`*_{}\[\]()#|<>&$~])", r"\\\1", text)


def _section(frame: pd.DataFrame, title: str, folder: Path, prefix: str) -> tuple[list[str], list[str]]:
    """Markdown and HTML for one site or article: each chart written next to them, with its numbers as a
    table, as the pages show them."""
    result = neutrality(frame)
    alt, tables = alt_texts(frame, result), chart_tables(frame, result)
    md = [f"{len(frame)} comments. Neutrality: {result.verdict}. {result.note}", ""]
    htm = [f"<p>{len(frame)} comments. Neutrality: {html.escape(result.verdict)}. {html.escape(result.note)}</p>"]
    for chart in CHARTS:
        name = f"{prefix}{chart}.png"
        (folder / name).write_bytes(render_chart(frame, chart, title))
        md += [f"![{alt[chart]}]({name})", ""]
        htm.append(f'<p><img alt="{html.escape(alt[chart])}" src="{html.escape(name)}"></p>')
        header, rows = tables[chart]["header"], tables[chart]["rows"]
        if not rows:
            continue
        md += ["| " + " | ".join(map(str, header)) + " |", "|---" * len(header) + "|"]
        md += ["| " + " | ".join(map(str, [label, *cells])) + " |" for label, cells in rows] + [""]
        htm.append("<table><tr>" + "".join(f'<th scope="col">{html.escape(str(h))}</th>' for h in header) + "</tr>")
        htm += ["<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in [label, *cells]) + "</tr>"
                for label, cells in rows]
        htm.append("</table>")
    return [*md, ""], htm


def _heading(title: str, article_id: str, n: int, escape) -> str:
    """An article's heading in the report: its stored title where there is one, each id ``escape``d for the format."""
    if title != article_id:
        return f"{escape(title)} (article {escape(article_id)}, {n} comments)"
    return f"Article {escape(article_id)} ({n} comments)"


def write_report(engine: sa.Engine, output: Path, site_ids: list[str] | None = None, top_articles: int = 10) -> list[Path]:
    """Write ``output/<site>/README.md`` and ``index.html`` with charts for each site and its busiest articles."""
    with db.connect(engine) as conn:
        site_ids = site_ids or [s for s, _ in sites(conn)]
        frames = {s: comments_frame(conn, s) for s in site_ids}
        listed = {s: articles(frame, top_articles) for s, frame in frames.items()}
        titles = {s: {a: (row or {}).get("title") for a, row in
                      db.articles_by_id(conn, s, [a for a, _ in listed[s]]).items()} for s in site_ids}
    written, folders = [], {}
    for site_id, frame in frames.items():
        folder = output / _slug(site_id, folders)
        folder.mkdir(parents=True, exist_ok=True)
        md, htm = _section(frame, site_id, folder, "site-")
        written_at = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        md = [f"# Reader reaction: {_md(site_id)}", "", f"Written by `make editors-report` on {written_at} "
              "(times below are UTC too). "
              "Outcome = the moderator's decision where there is one, else the verdict. Violation rate: share of "
              "comments scoring 0.5 or more. Neutrality compares rejection rates of comments against and in favor "
              "of the article within the same violation-score band (pooled with Mantel-Haenszel weights).", "", *md]
        htm = [f"<!doctype html><meta charset='utf-8'><title>Reader reaction: {html.escape(site_id)}</title>",
               f"<h1>Reader reaction: {html.escape(site_id)}</h1>", *htm]
        charts: dict[str, str] = {}
        for article_id, n in listed[site_id]:
            part = frame[frame["article_id"] == article_id]
            title = titles[site_id].get(article_id) or article_id  # its stored title, the id where none is
            a_md, a_htm = _section(part, title, folder, f"article-{_slug(article_id, charts)}-")
            md += [f"## {_heading(title, article_id, n, _md)}", "", *a_md]
            htm += [f"<h2>{_heading(title, article_id, n, html.escape)}</h2>", *a_htm]
        (folder / "README.md").write_text("\n".join(md) + "\n")
        (folder / "index.html").write_text("\n".join(htm) + "\n")
        written.append(folder / "README.md")
    return written


class _NoDatabase(Exception):
    """The report's database is missing, does not answer, or is not the service's."""


def _open_database(url: str) -> sa.Engine:
    """An engine on the service's database, or :class:`_NoDatabase` saying what is wrong.

    A SQLite file that is not there is refused before connecting, which would create an empty one.
    """
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise _NoDatabase(f"{url!r} is not a database URL: give sqlite:///PATH or postgresql+psycopg://...") from None
    shown = parsed.render_as_string(hide_password=True)
    path = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if path and path != ":memory:" and not path.startswith("file:") and not Path(path).is_file():
        raise _NoDatabase(f"no database at {path}: name the service's database with --database or "
                          "MODERATION_DATABASE_URL")
    try:
        engine = db.make_engine(url)
    except ValueError as exc:
        raise _NoDatabase(str(exc)) from None
    try:
        with db.connect(engine) as conn:
            version = db.schema_version(conn)
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        raise _NoDatabase(f"{shown} did not answer: {getattr(exc, 'orig', None) or exc}") from None
    if version is None:
        engine.dispose()
        raise _NoDatabase(f"{shown} holds no moderation tables: is it the service's database?")
    return engine


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def main(argv=None) -> int:
    """``python -m webhook editors-report``: write the report; 2 when there is no service database to read."""
    parser = argparse.ArgumentParser(description="Editors' report: reader reaction per site and article, with charts")
    parser.add_argument("--database", help="SQLAlchemy URL (default: $MODERATION_DATABASE_URL or instance/moderation.sqlite)")
    parser.add_argument("--output", type=Path, default=Path("reports/editors"))
    parser.add_argument("--site", action="append", help="only this site (repeatable)")
    parser.add_argument("--articles", type=_count, default=10, help="the busiest N articles of each site get a section")
    args = parser.parse_args(argv)
    default = Path(__file__).resolve().parent.parent / "instance" / "moderation.sqlite"
    try:
        engine = _open_database(args.database or os.environ.get("MODERATION_DATABASE_URL") or f"sqlite:///{default}")
    except _NoDatabase as exc:
        print(f"editors-report: {exc}", file=sys.stderr)
        return 2
    try:
        with db.connect(engine) as conn:
            unknown = sorted(set(args.site or ()) - {s for s, _ in sites(conn)})
        if unknown:  # as the pages answer 404: a mistyped site is not a site without readers
            print(f"editors-report: no comments stored for site {unknown[0]!r} (--site): nothing was written",
                  file=sys.stderr)
            return 2
        written = write_report(engine, args.output, args.site, args.articles)
    except OSError as exc:
        print(f"editors-report: cannot write the report under {args.output} (--output): {exc.strerror or exc}",
              file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    for path in written:
        print(f"wrote {path} (and index.html, charts)")
    if not written:
        print("no comments stored: nothing to report")
    return 0


if __name__ == "__main__":  # the old entry point, which ran this module a second time (runpy warns)
    print("python -m webhook.editors is gone: run `python -m webhook editors-report` (or `make editors-report`)",
          file=sys.stderr)
    sys.exit(2)
