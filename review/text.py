"""A comment as a moderator reads it: the formatting HTML a CMS sends (Coral's) turned into plain text.

Nothing of a comment is ever rendered as HTML. The formatting tags a CMS adds (paragraphs, line breaks,
bold, links) are dropped or become line breaks, a link whose target is not its text gets the target
after it, and character references (``&amp;``) are decoded. Any other tag (a script, an image) stays
in the text, to be shown escaped, so that a moderator sees what was attempted. Every character of the
original keeps its place in the readable text: evidence offsets, which point into the text as the CMS
sent it, still mark the same words.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

__all__ = ["Readable", "readable"]

_MARKUP = re.compile(r"<(?P<closing>/?)(?P<name>[a-zA-Z][a-zA-Z0-9]*)(?P<attributes>\s[^<>]*)?/?>"
                     r"|(?P<entity>&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});)")
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
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    links: list[tuple[str, int]] = []  # open links: target, and where their text begins
    position, shown = 0, 0
    for match in _MARKUP.finditer(text):
        a, b = match.span()
        pending = text[position:a]
        piece = _replacement(match, out, pending, shown + len(pending), links)
        if piece is None:  # an entity that decodes to itself, or a tag that is not formatting: kept as text
            continue
        starts.extend(range(shown, shown + a - position))  # the text before it, character for character
        ends.extend(range(shown + 1, shown + a - position + 1))
        out.append(pending)
        shown += a - position
        if match.group("entity"):  # each of its characters covers the character it decodes to
            starts.extend([shown] * (b - a))
            ends.extend([shown + len(piece)] * (b - a))
        else:  # a tag's line break or link target belongs to no written character
            starts.extend([shown + len(piece)] * (b - a))
            ends.extend([shown] * (b - a))
        out.append(piece)
        shown += len(piece)
        position = b
    if not out:
        return Readable(text)
    starts.extend(range(shown, shown + len(text) - position))
    ends.extend(range(shown + 1, shown + len(text) - position + 1))
    out.append(text[position:])
    return Readable("".join(out), tuple(starts), tuple(ends))


def _replacement(match: re.Match, out: list[str], pending: str, shown: int,
                 links: list[tuple[str, int]]) -> str | None:
    """What a tag or character reference becomes in the readable text, which is ``out`` then ``pending``
    (``shown`` characters) so far; None keeps it as written."""
    if match.group("entity"):
        decoded = html.unescape(match.group("entity"))
        return None if decoded == match.group("entity") else decoded
    name = match.group("name").lower()
    if name == "br":
        return "\n"
    if name in _BLOCK:  # a paragraph starts on a line of its own, without blank lines piling up
        last = next((piece[-1] for piece in (pending, *reversed(out)) if piece), "\n")
        return "" if last == "\n" else "\n"
    if name not in _INLINE:
        return None
    if name == "a" and not match.group("closing"):
        href = _HREF.search(match.group("attributes") or "")
        links.append((html.unescape(next(g for g in href.groups() if g is not None)).strip() if href else "", shown))
    elif name == "a" and links:
        href, begin = links.pop()
        if href and href not in ("".join(out) + pending)[begin:]:
            return f" ({href})"
    return ""
