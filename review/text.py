"""A comment as a moderator reads it: the formatting HTML a CMS sends (Coral's) turned into plain text.

Nothing of a comment is ever rendered as HTML. The formatting tags a CMS adds (paragraphs, line breaks,
bold, links) are dropped or become line breaks, a link whose target is not its text gets the target
after it, and character references (``&amp;``, and ``&amp`` or ``&#102uck`` as a browser reads them
without their ";") are decoded. Any other tag (a script, an image) stays
in the text, to be shown escaped, so that a moderator sees what was attempted. Every character of the
original keeps its place in the readable text: evidence offsets, which point into the text as the CMS
sent it, still mark the same words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from moderation.normalise import CHARACTER_REFERENCE, decode_reference, decode_references

__all__ = ["Readable", "readable"]

_MARKUP = re.compile(r"<(?P<closing>/?)(?P<name>[a-zA-Z][a-zA-Z0-9]*)(?P<attributes>\s[^<>]*)?/?>"
                     r"|(?P<entity>" + CHARACTER_REFERENCE + ")")
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
_INLINE = frozenset("a abbr b bdi bdo cite code del em font i ins kbd q s small span strike strong sub sup u".split())
_BLOCK = frozenset("blockquote dd div dl dt h1 h2 h3 h4 h5 h6 hr li ol p pre tr ul".split())


@dataclass(frozen=True)
class Readable:
    """Readable text, and for each character of the original where it begins and ends in that text."""

    text: str
    starts: tuple[int, ...] | None = None  # None: the text is the original, character for character
    ends: tuple[int, ...] | None = None

    @property
    def changed(self) -> bool:
        """Whether markup was turned into text (the card says so)."""
        return self.starts is not None

    def span(self, begin: int, end: int) -> tuple[int, int]:
        """The readable span of the original's ``[begin, end)``; empty when only markup was in it."""
        if self.starts is None or begin >= end:
            return begin, end
        return self.starts[begin], max(self.starts[begin], self.ends[end - 1])


def readable(text: str) -> Readable:
    """``text`` with its formatting markup made plain (see the module's docstring)."""
    if "<" not in text and "&" not in text:
        return Readable(text)
    shown = _Shown()
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    for match in _MARKUP.finditer(text):
        a, b = match.span()
        pending = text[position:a]
        piece = shown.replacement(match, pending)
        if piece is None:  # an entity that decodes to itself, or a tag that is not formatting: kept as text
            continue
        starts.extend(range(shown.length, shown.length + a - position))  # the text before it, as written
        ends.extend(range(shown.length + 1, shown.length + a - position + 1))
        shown.add(pending)
        if match.group("entity"):  # each of its characters covers the character it decodes to
            starts.extend([shown.length] * (b - a))
            ends.extend([shown.length + len(piece)] * (b - a))
        else:  # a tag's line break or link target belongs to no written character
            starts.extend([shown.length + len(piece)] * (b - a))
            ends.extend([shown.length] * (b - a))
        shown.add(piece)
        position = b
    if not shown.out:
        return Readable(text)
    starts.extend(range(shown.length, shown.length + len(text) - position))
    ends.extend(range(shown.length + 1, shown.length + len(text) - position + 1))
    shown.add(text[position:])
    return Readable("".join(shown.out), tuple(starts), tuple(ends))


class _Shown:
    """The readable text so far, in pieces, with what its tags need kept as it grows, so that each tag costs
    time for its own text only (a comment of thousands of tags must not cost their square)."""

    def __init__(self):
        self.out: list[str] = []
        self.length = 0
        self.last = "\n"  # the last character so far; the text starts as if on a line of its own
        self.link: tuple[str, int] | None = None  # the open link: its target, and the piece its text starts at

    def add(self, piece: str) -> None:
        self.out.append(piece)
        self.length += len(piece)
        self.last = piece[-1] if piece else self.last

    def replacement(self, match: re.Match, pending: str) -> str | None:
        """What a tag or character reference becomes, after the readable text so far and ``pending``; None
        keeps it as written."""
        if match.group("entity"):
            decoded = decode_reference(match.group("entity"))  # as the scorer reads it ("&#102uck", "&amp")
            return None if decoded == match.group("entity") else decoded
        name = match.group("name").lower()
        if name == "br":
            return "\n"
        if name in _BLOCK:  # a paragraph starts on a line of its own, without blank lines piling up
            return "" if (pending[-1] if pending else self.last) == "\n" else "\n"
        if name not in _INLINE:
            return None
        if name != "a":
            return ""
        target = self._close_link(pending)  # links do not nest: a new one ends the open one, as in HTML
        if not match.group("closing"):
            href = _HREF.search(match.group("attributes") or "")
            found = decode_references(next(g for g in href.groups() if g is not None)).strip() if href else ""
            self.link = (found, len(self.out) + 2)  # its text starts after ``pending`` and this tag's piece
        return target

    def _close_link(self, pending: str) -> str:
        """The open link's target, to follow its text unless the text already shows it; "" for none."""
        if self.link is None:
            return ""
        (href, begin), self.link = self.link, None
        return f" ({href})" if href and href not in "".join(self.out[begin:]) + pending else ""
