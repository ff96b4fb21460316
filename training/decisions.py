"""Export the moderators' decisions and feedback labels stored by the service as training rows.

``make data`` (``python -m training.retrain data``) reads the service's ``labels`` table (from
``MODERATION_DATABASE_URL`` or ``instance/moderation.sqlite``), turns each stored label into head
values, merges labels on the same normalised text (the latest decision wins), splits by time (the
most recent 20% are held out: never trained on, the evaluation set of ``make evaluate``) and writes
``registry/data/decisions.jsonl`` with a data report.

How a stored label becomes head values (1 = violation, 0 = none, absent = the label says nothing):

- ``label`` is one of the model's heads (``personal_attack``, ``profanity``, ...; Perspective's
  ``suggestscore`` stores these): that head, 1 when ``value >= 0.5``; a threat or identity attack
  is also incitement.
- ``label`` is ``moderator_decision`` (Coral's moderation queue, the review queue): ``value >= 0.5``
  is a rejection. With a rejection code in the provenance (``code``, ``reason_code``,
  ``rejection_code`` or ``rejectionReason.code``: OFFENSIVE, ABUSIVE, HARASSMENT_BULLYING,
  HATE_SPEECH) the matching policy label and toxicity are 1; with SPAM or AD only spam is (an advert is
  removed for what it sells, not for abuse); without one only toxicity is. An
  approval (``value < 0.5``) is 0 for every head: the site says the comment breaks none of its rules;
  but where the review queue's approval said the comment still has some policy labels that the site
  allows (``allowed`` in the provenance: "allowed here, but still profanity"), those and toxicity are 1
  (and an allowed incitement says nothing of threat and identity attack).
- Anything else is counted in the report as not used.

A label row without text is matched to the comment the service stored under the same site and id
(``comment_ref``); a Coral decision names Coral's comment id, which the moderation phase never
sends, so such rows are reported as having no text.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from moderation.labels import HEADS, POLICY_LABELS, REJECTION_CODES
from moderation.normalise import normalise_text

from .registry import RegistryError, write_atomic

__all__ = ["HOLDOUT_SHARE", "DataReport", "DecisionsError", "EmptyExport", "export_decisions", "label_heads",
           "read_decisions"]

HOLDOUT_SHARE = 0.2
DECISION_LABELS = ("moderator_decision", "decision")
_CODE_LABELS = {**{code: label for label, code in REJECTION_CODES.items()}, "HARASSMENT_BULLYING": "personal_attack",
                "AD": "spam"}
_CODE_KEYS = ("code", "reason_code", "rejection_code")
# Reasons that name no abuse: off topic, misinformation, illegal (a court order, a victim named), a word one
# site bans, other. Such a rejection teaches no head (data/LABELLING.md: off topic is a tag, not a violation).
_NO_ABUSE_CODES = frozenset({"IRRELEVANT_CONTENT", "MISINFORMATION", "ILLEGAL_CONTENT", "BANNED_WORD", "OTHER"})


class EmptyExport(RuntimeError):
    """An export with no rows that would replace an earlier export with rows."""


class DecisionsError(RegistryError):
    """An exported decisions file that cannot be read (cut off, edited by hand), naming the file and line."""


def _log(message: str) -> None:
    print(f"[data] {message}", file=sys.stderr, flush=True)


def _code(provenance) -> str | None:
    if not isinstance(provenance, dict):
        return None
    for key in _CODE_KEYS:
        if isinstance(provenance.get(key), str):
            return provenance[key].upper()
    reason = provenance.get("rejectionReason")
    if isinstance(reason, dict) and isinstance(reason.get("code"), str):
        return reason["code"].upper()
    return None


def _allowed(provenance) -> list[str]:
    """The policy labels an approval says the comment still has (the review queue's ``allowed``)."""
    allowed = provenance.get("allowed") if isinstance(provenance, dict) else None
    return [label for label in allowed if label in POLICY_LABELS] if isinstance(allowed, list) else []


def label_heads(label: str, value: float, provenance=None) -> dict[str, float]:
    """Head values one stored label stands for; empty when it says nothing the model learns."""
    positive = float(value) >= 0.5
    if label in HEADS:
        heads = {label: float(positive)}
        if positive and label in ("threat", "identity_attack"):
            heads["incitement"] = 1.0
        return heads
    if label in DECISION_LABELS:
        if not positive:
            heads = dict.fromkeys(HEADS, 0.0)
            kept = _allowed(provenance)
            if kept:  # approved, but still profanity (say): the site allows it, the label stands
                heads.update(dict.fromkeys(kept, 1.0), toxicity=1.0)
                if "incitement" in kept:  # which of its halves is not said
                    del heads["threat"], heads["identity_attack"]
            return heads
        code = _code(provenance)
        if code in _NO_ABUSE_CODES:
            return {}
        policy_label = _CODE_LABELS.get(code or "")
        if policy_label == "spam":  # an advert is removed for what it sells, not for abuse
            return {"spam": 1.0}
        heads = {"toxicity": 1.0}
        if policy_label:
            heads[policy_label] = 1.0
        return heads
    return {}


@dataclass
class DataReport:
    """What the export found and did."""

    label_rows: int = 0
    by_source: Counter = field(default_factory=Counter)
    by_label: Counter = field(default_factory=Counter)
    not_used: Counter = field(default_factory=Counter)
    no_text: Counter = field(default_factory=Counter)
    duplicates: int = 0
    conflicts: int = 0
    rows: int = 0
    heldout: int = 0
    positives: Counter = field(default_factory=Counter)
    overlap: dict = field(default_factory=dict)
    heldout_from: str | None = None

    def markdown(self, database: str, output: Path) -> str:
        lines = ["# Exported moderators' decisions", "",
                 f"Written by `make data` on {datetime.now():%Y-%m-%d %H:%M} from `{database}` to `{output}`.", "",
                 f"- label rows read: {self.label_rows}",
                 f"- training rows written: {self.rows} ({self.rows - self.heldout} train, {self.heldout} held out "
                 f"by time{f', decided at or after {self.heldout_from}' if self.heldout_from else ''})",
                 f"- label rows folded into a text seen before (same normalised text: a review decision stores "
                 f"several labels, or the text was decided again): {self.duplicates}; with a conflicting value "
                 f"(the latest kept): {self.conflicts}",
                 f"- label rows without text (no stored comment to match): {sum(self.no_text.values())}",
                 f"- label rows not used (a label the model does not learn): {sum(self.not_used.values())}", "",
                 "| source | label rows | without text |", "|---|---|---|"]
        lines += [f"| {s} | {n} | {self.no_text.get(s, 0)} |" for s, n in sorted(self.by_source.items())]
        lines += ["", "| label | label rows | positive rows written |", "|---|---|---|"]
        names = sorted(set(self.by_label) | set(self.positives))
        lines += [f"| {n} | {self.by_label.get(n, 0)} | {self.positives.get(n, '')} |" for n in names]
        lines += ["", "Overlap of the exported texts with the other training data (same normalised text):", ""]
        lines += [f"- {name}: {value}" for name, value in self.overlap.items()] or ["- not checked"]
        return "\n".join(lines) + "\n"


_LABEL_COLUMNS = ("id", "site_id", "comment_ref", "text", "label", "value", "source", "provenance", "created_at")


def _label_rows(conn) -> list[dict]:
    from webhook.db import labels

    query = sa.select(*(labels.c[name] for name in _LABEL_COLUMNS)).order_by(labels.c.created_at, labels.c.id)
    return [row._asdict() for row in conn.execute(query)]


def _stored_texts(conn, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    from webhook.db import comments

    found = {}
    by_site: dict[str, list[str]] = {}
    for site, ref in wanted:
        by_site.setdefault(site, []).append(ref)
    for site, refs in by_site.items():
        for start in range(0, len(refs), 500):
            query = sa.select(comments.c.comment_id, comments.c.text).where(
                comments.c.site_id == site, comments.c.comment_id.in_(refs[start:start + 500]))
            found.update({(site, r.comment_id): r.text for r in conn.execute(query)})
    return found


def _decision(row: dict) -> str | None:
    """Which moderator's decision a label row belongs to (None for other feedback): the rows one decision
    stores (``moderator_decision`` and the label its code names) share their source and provenance, which
    holds the decision's time (``decided_at``; rows stored before it had none, so two decisions alike in
    everything else read as one)."""
    if row["label"] not in DECISION_LABELS and row["source"] != "review":
        return None
    return row["source"] + " " + json.dumps(row["provenance"], sort_keys=True, default=str)


def _merge(rows: list[dict], report: DataReport) -> list[dict]:
    """One training row per normalised text; later labels override earlier ones head by head, except that a
    moderator's later decision replaces an earlier decision whole: a rejection recoded from ABUSIVE to SPAM is
    spam, not spam and a personal attack (heads other feedback set since are kept)."""
    merged: dict[str, dict] = {}
    # The rows of one decision together, where its first row is: two moderators' decisions written at the same
    # moment (PostgreSQL does not serialise them) would otherwise interleave and each replace the other.
    decisions = [_decision(row) for row in rows]
    first: dict = {}
    for i, decision in enumerate(decisions):
        first.setdefault(i if decision is None else decision, i)
    order = sorted(range(len(rows)), key=lambda i: (first[i if decisions[i] is None else decisions[i]], i))
    for i in order:  # oldest first
        row, decision = rows[i], decisions[i]
        key = hashlib.sha1(row["norm"].encode("utf-8")).hexdigest()[:16]
        heads = row["heads"]
        if key not in merged:
            merged[key] = {"key": key, "text": row["text"], "site_id": row["site_id"], "heads": dict(heads),
                           "decided_at": row["created_at"], "sources": {row["source"]}, "label_ids": [row["id"]],
                           "decision": decision, "decision_heads": set(heads) if decision else set()}
            continue
        entry = merged[key]
        report.duplicates += 1
        if any(h in entry["heads"] and entry["heads"][h] != v for h, v in heads.items()):
            report.conflicts += 1
        if decision is None:
            entry["decision_heads"] -= set(heads)
        elif decision != entry["decision"]:  # a new decision: the earlier one's heads go
            for head in entry["decision_heads"]:
                entry["heads"].pop(head, None)
            entry["decision"], entry["decision_heads"] = decision, set()
        if decision is not None:
            entry["decision_heads"] |= set(heads)
        entry["heads"].update(heads)
        entry["decided_at"] = max(entry["decided_at"], row["created_at"])
        entry["sources"].add(row["source"])
        entry["label_ids"].append(row["id"])
    return sorted(merged.values(), key=lambda e: (e["decided_at"], e["label_ids"][-1]))


def _overlap(norms: set[str], datasets_root: Path | None, data_dir: Path, check_public: bool) -> dict:
    from . import corpus, sources

    out = {}
    _, comments = corpus.load_corpus(data_dir)
    corpus_norms = {normalise_text(t) for t in comments["text"]}
    out["project corpus (data/)"] = f"{len(norms & corpus_norms)} of {len(norms)}"
    if not check_public:
        out["public sources"] = "not checked (--no-public-overlap)"
        return out
    root = sources.datasets_dir(datasets_root)
    if not root.is_dir():
        out["public sources"] = f"not checked: no datasets at {root}"
        return out
    for spec in sources.default_sources("violation"):
        try:
            texts = spec.loader(root)["text"]
        except FileNotFoundError as exc:
            out[spec.name] = f"not checked: {exc}"
            continue
        out[spec.name] = f"{len(norms & {normalise_text(t) for t in texts})} of {len(norms)}"
    return out


def _keep_earlier_rows(merged: list, report: DataReport, path: Path, database_label: str) -> None:
    # An empty export is most often the wrong database (a new one, another site's): it must not
    # quietly wipe the decisions the next `make train` and `make evaluate` would use.
    if merged or not path.is_file():
        return
    earlier = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    if earlier:
        raise EmptyExport(
            f"{database_label} has no usable decisions ({report.label_rows} label rows read, "
            f"{sum(report.not_used.values())} with a label the model does not learn, "
            f"{sum(report.no_text.values())} without text), and the previous export {path} has {earlier} rows: "
            f"kept it and {path.with_name('REPORT.md')} unchanged. Check the database; to clear the export "
            f"on purpose, delete {path} and run `make data` again")


def export_decisions(engine: sa.Engine, output_dir: Path, *, database_label: str = "the service's database",
                     holdout_share: float = HOLDOUT_SHARE, datasets_root: Path | None = None,
                     data_dir: Path | None = None, check_public: bool = True) -> DataReport:
    """Write ``decisions.jsonl`` and ``REPORT.md`` into ``output_dir``; return the report."""
    from . import corpus

    report = DataReport()
    with engine.connect() as conn:
        rows = _label_rows(conn)
        missing = {(r["site_id"], r["comment_ref"]) for r in rows if not r["text"] and r["comment_ref"]}
        texts = _stored_texts(conn, missing) if missing else {}
    _log(f"{len(rows)} label rows read")
    usable = []
    for row in rows:
        report.label_rows += 1
        report.by_source[row["source"]] += 1
        report.by_label[row["label"]] += 1
        heads = label_heads(row["label"], row["value"], row["provenance"])
        if not heads and _decision(row) is None:
            report.not_used[row["label"]] += 1
            continue
        # A decision that teaches no head still replaces an earlier decision on the text (below).
        text = row["text"] or texts.get((row["site_id"], row["comment_ref"]))
        if not text or not text.strip():
            report.no_text[row["source"]] += 1
            continue
        usable.append({**row, "text": text, "norm": normalise_text(text), "heads": heads})
    merged = _merge(usable, report)
    silent = sum(1 for entry in merged if not entry["heads"])
    if silent:  # the text's last decision named no abuse, and no other label says anything of it
        report.not_used["decisions whose reason names no abuse"] += silent
        merged = [entry for entry in merged if entry["heads"]]
    heldout = math.ceil(len(merged) * holdout_share) if merged else 0
    report.rows, report.heldout = len(merged), heldout
    if heldout:
        report.heldout_from = merged[len(merged) - heldout]["decided_at"].isoformat(timespec="seconds")
    _keep_earlier_rows(merged, report, output_dir / "decisions.jsonl", database_label)
    output_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, entry in enumerate(merged):
        split = "heldout" if i >= len(merged) - heldout else "train"
        for head, value in entry["heads"].items():
            report.positives[head] += int(value == 1.0)
        lines.append(json.dumps({
            "key": entry["key"], "text": entry["text"], "site_id": entry["site_id"],
            **{h: entry["heads"].get(h) for h in HEADS}, "decided_at": entry["decided_at"].isoformat(),
            "sources": sorted(entry["sources"]), "label_ids": entry["label_ids"], "split": split},
            ensure_ascii=False))
    # Renamed into place once whole: an interrupted `make data` leaves the earlier export, never half of one.
    write_atomic(output_dir / "decisions.jsonl", "".join(line + "\n" for line in lines))
    norms = {normalise_text(e["text"]) for e in merged}
    report.overlap = _overlap(norms, datasets_root, data_dir or corpus.DATA_DIR, check_public)
    write_atomic(output_dir / "REPORT.md", report.markdown(database_label, output_dir / "decisions.jsonl"))
    return report


def read_decisions(path: Path, split: str | None = None) -> list[dict]:
    """Rows of an exported decisions file, optionally only one split (``train`` or ``heldout``).

    Every row is checked, whatever its split: a line that is not a JSON object with a text and head values
    that are numbers or null is a :class:`DecisionsError` naming the file and the line.
    """
    path = Path(path)
    if not path.is_file():
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DecisionsError(f"{path} is not UTF-8 (byte {exc.start}): the export is damaged. Run `make data` again "
                             "to export the decisions afresh") from None
    rows = []
    # Split at newlines only: a text may hold U+2028 or U+0085, which the export writes as they are.
    for number, line in enumerate(text.split("\n"), 1):
        if line.strip():
            rows.append(_decision_row(line, path, number))
    return [r for r in rows if split is None or r.get("split") == split]


_JSON_KINDS = {list: "an array", str: "a string", bool: "true or false", type(None): "null"}


def _decision_row(line: str, path: Path, number: int) -> dict:
    def damaged(problem: str) -> DecisionsError:
        return DecisionsError(f"{path} line {number} {problem}: the export is damaged (cut off, or edited by hand). "
                              "Run `make data` again to export the decisions afresh")

    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise damaged(f"is not a JSON record ({exc.msg}: column {exc.colno})") from None
    if not isinstance(row, dict):
        raise damaged(f"is not a decision (a JSON object) but {_JSON_KINDS.get(type(row), 'a number')}")
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise damaged("has no text" if text is None else f"has no usable text (text is {json.dumps(text)})")
    for head in HEADS:
        value = row.get(head)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not 0 <= value <= 1):
            raise damaged(f"has {head} = {value!r}, not a number from 0 to 1 or null")
    return row
