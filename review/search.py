"""Text search of the queues, in the text as a moderator reads it: markup made plain, capitals of any
alphabet folded.

SQL can do neither (a phrase that a tag splits, ``I <b>strongly</b> disagree``; ``Ü`` and ``ü`` on
SQLite), so each review item keeps its text as the card shows it (``search_text``, :func:`searchable`,
filled in at the queue's syncs), the database narrows the comments to candidates, those whose shown text
holds every ASCII word of the search, newest first and at most :data:`CANDIDATES` of them, and this module
keeps those whose shown text contains the search. Both are lower-cased and in composed form, without
invisible formatting characters, with each run of white space read as one space; a word the card shows
whole is found however the comment spells it ("&#102;uck", ``dis<b>agree</b>``, a soft hyphen). Comments
beyond the newest :data:`CANDIDATES` candidates are left out, and the page says so.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass

from webhook import db

from .text import readable

__all__ = ["CANDIDATES", "Found", "find", "searchable"]

CANDIDATES = 2000


def searchable(text: str) -> str:
    """``text`` as search compares it: readable, in composed form (NFC), without invisible formatting characters
    (a soft hyphen, a zero-width space), lower case, each run of white space one space."""
    return _compared(readable(text).text)


def _compared(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    if not text.isascii():
        text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return " ".join(text.lower().split())


@dataclass(frozen=True)
class Found:
    """The comments a search found, newest first (id, queue, risk, time), and whether candidates were left out."""

    rows: list[dict]
    capped: bool

    def counts(self) -> dict[str, int]:
        """How many were found in each queue."""
        return dict.fromkeys(db.QUEUES, 0) | Counter(row["queue"] for row in self.rows)

    def page(self, conn, queue: str, order: str, limit: int, offset: int = 0, *, after: tuple | None = None,
             before: tuple | None = None) -> list[dict]:
        """One page of the comments found in ``queue``, newest or highest-risk first, as full review items
        (``after``, ``before``: a sort key, as ``db.review_queue`` takes them)."""
        def key(row) -> tuple:
            return db.queue_key(row, order)

        rows = sorted((row for row in self.rows if row["queue"] == queue), key=key, reverse=True)
        if before is not None:
            rows = [row for row in rows if key(row) > tuple(before)][-limit:]
        else:
            if after is not None:
                rows = [row for row in rows if key(row) < tuple(after)]
            rows = rows[offset:offset + limit]
        ids = [row["id"] for row in rows]
        items = db.review_items_by_id(conn, ids)
        return [items[i] for i in ids if i in items]


def find(conn, filters: dict) -> Found:
    """The comments, in every queue and under the other filters, whose readable text contains ``filters["q"]``."""
    wanted = _compared(filters["q"])  # as typed: a search is not HTML
    candidates = db.review_search(conn, {**filters, "q": wanted}, CANDIDATES + 1)  # its ASCII words, composed
    rows = [{k: v for k, v in row.items() if k not in ("text", "search_text")} for row in candidates[:CANDIDATES]
            if wanted in (row["search_text"] if row["search_text"] is not None else searchable(row["text"]))]
    return Found(rows, capped=len(candidates) > CANDIDATES)
