"""Text search of the queues, in the text as a moderator reads it: markup made plain, capitals of any
alphabet folded.

SQL can do neither (a phrase that a tag splits, ``I <b>strongly</b> disagree``; ``Ü`` and ``ü`` on
SQLite), so the database narrows the comments to candidates, those whose text holds every ASCII word of
the search in any case, newest first and at most :data:`CANDIDATES` of them, and this module keeps those
whose readable text (:func:`review.text.readable`) contains the search. Both are lower-cased, with each run
of white space read as one space. Comments beyond the newest :data:`CANDIDATES` candidates are left out,
and the page says so.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from webhook import db

from .text import readable

__all__ = ["CANDIDATES", "Found", "find", "searchable"]

CANDIDATES = 2000


def searchable(text: str) -> str:
    """``text`` as search compares it: readable, lower case, each run of white space one space."""
    return " ".join(readable(text).text.lower().split())


@dataclass(frozen=True)
class Found:
    """The comments a search found, newest first (id, queue, risk, time), and whether candidates were left out."""

    rows: list[dict]
    capped: bool

    def counts(self) -> dict[str, int]:
        """How many were found in each queue."""
        return dict.fromkeys(db.QUEUES, 0) | Counter(row["queue"] for row in self.rows)

    def page(self, conn, queue: str, order: str, limit: int, offset: int) -> list[dict]:
        """One page of the comments found in ``queue``, newest or highest-risk first, as full review items."""
        rows = [row for row in self.rows if row["queue"] == queue]
        if order == "risk":
            rows.sort(key=lambda row: (row["risk"], row["verdict_at"], row["id"]), reverse=True)
        ids = [row["id"] for row in rows[offset:offset + limit]]
        items = db.review_items_by_id(conn, ids)
        return [items[i] for i in ids if i in items]


def find(conn, filters: dict) -> Found:
    """The comments, in every queue and under the other filters, whose readable text contains ``filters["q"]``."""
    wanted = " ".join(filters["q"].lower().split())  # as typed: a search is not HTML
    candidates = db.review_search(conn, filters, CANDIDATES + 1)
    rows = [{k: v for k, v in row.items() if k != "text"} for row in candidates[:CANDIDATES]
            if wanted in searchable(row["text"])]
    return Found(rows, capped=len(candidates) > CANDIDATES)
