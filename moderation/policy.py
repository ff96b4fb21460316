"""The policy engine: a site's posted rules, as a TOML file, turn scores into verdicts.

The model only returns probabilities; this module decides. Every verdict carries reasons that cite
the site's own clause (id and wording), the score and the threshold it crossed, and the evidence.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import PolicyError
from .labels import ACTIONS, HEADS, POLICY_LABELS, REJECTION_CODES
from .language import NO_WORDS as NO_WORDS_LANGUAGE
from .language import REPORTED_LANGUAGES as DETECTED_LANGUAGES

__all__ = ["AuthorState", "Clause", "Policy", "Reason", "Verdict", "load_policy", "parse_policy"]

_SEVERITY = {a: i for i, a in enumerate(ACTIONS)}
# A clause may act on incitement's two parts as well: each is incitement's kind of violation.
_CODES = {**REJECTION_CODES, "threat": REJECTION_CODES["incitement"], "identity_attack": REJECTION_CODES["incitement"]}


@dataclass(frozen=True)
class Clause:
    """One rule of the site's policy and the scores at which it holds or rejects."""

    id: str
    text: str
    labels: tuple[str, ...]
    hold_at: float
    reject_at: float


@dataclass(frozen=True)
class Reason:
    """Why a verdict is what it is: a label's score against a clause's threshold."""

    clause_id: str
    clause_text: str
    action: str
    label: str | None = None
    score: float | None = None
    threshold: float | None = None
    code: str | None = None
    evidence: tuple[dict, ...] = ()

    def as_dict(self) -> dict:
        out = asdict(self)
        out["evidence"] = list(self.evidence)
        return out


@dataclass(frozen=True)
class AuthorState:
    """What the service knows of a comment's author."""

    strikes: int = 0
    status: str = "active"  # active | premod | blocked


@dataclass
class Verdict:
    """approve | hold | reject, with reasons and the versions that produced it."""

    action: str
    reasons: list[Reason] = field(default_factory=list)
    policy_id: str = ""
    policy_version: str = ""

    def as_dict(self) -> dict:
        return {"action": self.action, "reasons": [r.as_dict() for r in self.reasons],
                "policy_version": f"{self.policy_id}@{self.policy_version}"}


@dataclass(frozen=True)
class Policy:
    """A site's discussion policy."""

    id: str
    version: str
    title: str
    clauses: tuple[Clause, ...]
    unscorable: dict
    authors: dict
    languages: tuple[str, ...] = ("en",)

    def clause_for(self, label: str) -> Clause | None:
        return next((c for c in self.clauses if label in c.labels), None)

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels the clauses act on, in order: the ones a verdict's evidence is wanted for."""
        return tuple(dict.fromkeys(label for clause in self.clauses for label in clause.labels))

    def decide(self, score, evidence=(), author: AuthorState | None = None) -> Verdict:
        """Turn a :class:`moderation.scorer.Score` (and optional evidence spans) into a verdict."""
        reasons = self._unscorable_reasons(score) or self._label_reasons(score, evidence)
        reasons += self._author_reasons(author or AuthorState())
        action = max((r.action for r in reasons), key=_SEVERITY.__getitem__, default="approve")
        return Verdict(action, reasons, self.id, self.version)

    def author_action(self, author: AuthorState) -> str:
        """What the author rules alone decide for a comment by ``author`` ("approve" when they say nothing)."""
        return max((r.action for r in self._author_reasons(author)), key=_SEVERITY.__getitem__, default="approve")

    def fallback(self, kind: str = "error", author: AuthorState | None = None) -> Verdict:
        """The verdict for a comment that could not be scored at all; the author rules still apply (a blocked
        author's comment is rejected whether or not it could be scored)."""
        reasons = [self._unscorable_reason(kind), *self._author_reasons(author or AuthorState())]
        action = max((r.action for r in reasons), key=_SEVERITY.__getitem__)
        return Verdict(action, reasons, self.id, self.version)

    def _unscorable_reason(self, kind: str) -> Reason:
        u = self.unscorable
        return Reason(u["clause"], u["text"], u[kind], label=None, code="OTHER")

    def unscorable_kind(self, score) -> str | None:
        """Which ``[unscorable]`` rule decides this score's verdict (``empty``, ``no_words``,
        ``non_english``), or None when the label scores do."""
        if getattr(score, "empty", False):
            return "empty"
        if score.language == NO_WORDS_LANGUAGE:
            return None if self.unscorable["no_words"] == "score" else "no_words"
        if score.language not in self.languages:
            return "non_english"
        return None

    def _unscorable_reasons(self, score) -> list[Reason]:
        kind = self.unscorable_kind(score)
        return [self._unscorable_reason(kind)] if kind else []

    def _label_reasons(self, score, evidence) -> list[Reason]:
        reasons = []
        for clause in self.clauses:
            for label in clause.labels:
                value = score.scores.get(label, 0.0)
                if value >= clause.reject_at:
                    action, threshold = "reject", clause.reject_at
                elif value >= clause.hold_at:
                    action, threshold = "hold", clause.hold_at
                else:
                    continue
                spans = tuple(e.as_dict() for e in evidence if e.label == label)
                reasons.append(Reason(clause.id, clause.text, action, label, round(value, 4), threshold,
                                      _CODES.get(label, "OTHER"), spans))
        return reasons

    def _author_reasons(self, author: AuthorState) -> list[Reason]:
        rules = self.authors
        if author.status == "blocked" or author.strikes >= rules["block_after"]:
            action = "reject"
        elif author.status == "premod" or author.strikes >= rules["premod_after"]:
            action = "hold"
        else:
            return []
        return [Reason(rules["clause"], rules["text"], action, code="OTHER")]


def _number(table: dict, key: str, where: str) -> float:
    if key not in table:
        raise PolicyError(f"{where}: missing '{key}' (a number between 0 and 1)")
    value = table[key]
    # bool is an int in Python, but `hold_at = true` is a mistake, not 1.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise PolicyError(f"{where}: {key} must be a number between 0 and 1, got {value!r}")
    return float(value)


def _strings(table: dict, keys, where: str) -> None:
    # str() would quietly turn a table, list, number or boolean into a clause that cites nonsense
    for key in keys:
        if key in table and not isinstance(table[key], str):
            raise PolicyError(f"{where}: {key} must be a string, got {table[key]!r}")


# The settings a policy file may hold, by table: any other key is refused, as a misspelt one would otherwise be
# read as absent and its default used ("rejekt_at" in a clause, "[unscoreable]"), changing verdicts silently.
_TOP_KEYS = ("id", "version", "title", "intro", "languages", "clause", "unscorable", "authors")
_CLAUSE_KEYS = ("id", "text", "labels", "hold_at", "reject_at")
_AUTHOR_KEYS = ("premod_after", "block_after", "clause", "text")


def _known_keys(table: dict, known: tuple, where: str) -> None:
    unknown = [key for key in table if key not in known]
    if unknown:
        raise PolicyError(f"{where} has no setting {unknown[0]!r} (misspelt?): the settings are {', '.join(known)}")


def _clause(table: dict, n: int) -> Clause:
    where = f"clause {n} ({table.get('id', 'no id')})"
    _known_keys(table, _CLAUSE_KEYS, where)
    for key in ("id", "text", "labels"):
        if key not in table:
            raise PolicyError(f"{where}: missing '{key}'")
    _strings(table, ("id", "text"), where)
    _not_blank(table, ("id", "text"), where)
    labels = table["labels"]
    if not isinstance(labels, list) or not labels or not all(isinstance(lab, str) for lab in labels):
        raise PolicyError(f"{where}: labels must be a list of label names such as [\"profanity\"], got {labels!r}")
    labels = tuple(labels)
    unknown = [lab for lab in labels if lab not in HEADS]
    if unknown:
        raise PolicyError(f"{where}: unknown labels {unknown}; known: {list(HEADS)}")
    twice = [lab for lab in dict.fromkeys(labels) if labels.count(lab) > 1]
    if twice:
        raise PolicyError(f"{where}: label {twice[0]!r} is listed twice")
    hold, reject = _number(table, "hold_at", where), _number(table, "reject_at", where)
    if hold > reject:
        raise PolicyError(f"{where}: hold_at ({hold}) must not exceed reject_at ({reject})")
    return Clause(table["id"], table["text"].strip(), labels, hold, reject)


def _not_blank(table: dict, keys, where: str) -> None:
    # a verdict cites a clause by its id and in its words: an empty one cites nothing
    for key in keys:
        if isinstance(table.get(key), str) and not table[key].strip():
            raise PolicyError(f"{where}: {key} is empty")


def _one_clause_per_label(clauses) -> None:
    """Each label in one clause only: a score would otherwise get a reason from each, and which clause a
    label's thresholds come from (the review queue's meters, the evaluation) would be a matter of order."""
    seen: dict[str, str] = {}
    for clause in clauses:
        for label in clause.labels:
            if label in seen:
                raise PolicyError(f"label {label!r} is in clause {seen[label]!r} and clause {clause.id!r}: "
                                  "a label belongs to one clause")
            seen[label] = clause.id


def _distinct_clause_ids(clauses, unscorable: dict, authors: dict) -> None:
    """The [unscorable] and [authors] clause ids are apart from each other and from every [[clause]]'s: a
    verdict's reasons are told apart by them (the service finds the author rule's reason by its id)."""
    named = {c.id: f"[[clause]] {c.id!r}" for c in clauses}
    for table, name in ((unscorable, "[unscorable]"), (authors, "[authors]")):
        if table["clause"] in named:
            raise PolicyError(f"{name} clause {table['clause']!r} is the id of {named[table['clause']]}: "
                              "each needs its own")
        named[table["clause"]] = f"{name}'s clause"


def _clause_tables(data: dict) -> list:
    tables = data.get("clause", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise PolicyError(f"'clause' must be an array of [[clause]] tables, got {tables!r}")
    return tables


def _table(data: dict, key: str) -> dict:
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise PolicyError(f"'{key}' must be a table ([{key}] with keys under it), got {table!r}")
    return table


def _languages(data: dict) -> tuple[str, ...]:
    languages = data.get("languages", ["en"])
    # a bare string would silently become its letters: "en" -> ("e", "n")
    if not isinstance(languages, list) or not languages or not all(isinstance(x, str) for x in languages):
        raise PolicyError(f"languages must be a list of language codes such as [\"en\"], got {languages!r}")
    # a code the language identifier never reports ("EN", "english") would send every comment to the
    # non_english rule
    unknown = [code for code in languages if code not in DETECTED_LANGUAGES]
    if unknown:
        raise PolicyError(f"languages: {unknown[0]!r} is not a code the language identifier reports; it reports "
                          f"{', '.join(DETECTED_LANGUAGES)} (ISO 639 codes, lower case)")
    return tuple(languages)


def parse_policy(data: dict, source: str = "policy") -> Policy:
    """Validate a parsed policy document and build a :class:`Policy`."""
    try:
        _known_keys(data, _TOP_KEYS, "the policy's top level")
        clauses = tuple(_clause(t, i) for i, t in enumerate(_clause_tables(data), 1))
        ids = [c.id for c in clauses]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:  # a verdict cites its clause by id: two of one id would make the citation ambiguous
            raise PolicyError(f"clause id {twice[0]!r} is used by {ids.count(twice[0])} clauses: each needs its own")
        if not clauses:
            raise PolicyError("no [[clause]] tables")
        _one_clause_per_label(clauses)
        covered = {lab for c in clauses for lab in c.labels}
        missing = [lab for lab in POLICY_LABELS if lab not in covered]
        if missing:
            raise PolicyError(f"no clause covers {missing}")
        unscorable = {"non_english": "hold", "empty": "hold", "error": "hold",
                      "clause": "moderator-review", "text": "Held for a moderator.", **_table(data, "unscorable")}
        # Comments without a letter ("+1", emoji) have no language; a policy that says nothing of them
        # treats them as in a language it does not support, as before the rule existed.
        unscorable.setdefault("no_words", unscorable["non_english"])
        _strings(unscorable, ("clause", "text"), "[unscorable]")
        _not_blank(unscorable, ("clause", "text"), "[unscorable]")
        for key in ("non_english", "empty", "error", "no_words"):
            allowed = (*ACTIONS, "score") if key == "no_words" else ACTIONS
            if unscorable[key] not in allowed:
                raise PolicyError(f"[unscorable] {key} must be one of {allowed}, got {unscorable[key]!r}")
        unknown = sorted(set(unscorable) - {"non_english", "empty", "error", "no_words", "clause", "text"})
        if unknown:
            raise PolicyError(f"[unscorable] has no setting {unknown[0]!r}: the settings are non_english, "
                              f"no_words, empty, error, clause and text")
        given = _table(data, "authors")
        _known_keys(given, _AUTHOR_KEYS, "[authors]")
        authors = {"premod_after": 3, "block_after": 6, "clause": "repeat-offenders",
                   "text": "Repeat offenders may be pre-moderated or blocked.", **given}
        _strings(authors, ("clause", "text"), "[authors]")
        _not_blank(authors, ("clause", "text"), "[authors]")
        _distinct_clause_ids(clauses, unscorable, authors)
        for key in ("premod_after", "block_after"):
            if isinstance(authors[key], bool) or not isinstance(authors[key], int) or authors[key] < 1:
                raise PolicyError(f"[authors] {key} must be a positive integer, got {authors[key]!r}")
        if authors["premod_after"] > authors["block_after"]:
            shown = {k: f"{authors[k]}{'' if k in given else ', the default'}" for k in ("premod_after", "block_after")}
            raise PolicyError(f"[authors] premod_after ({shown['premod_after']}) must not exceed block_after "
                              f"({shown['block_after']}): an author would be blocked before being pre-moderated")
        for key in ("id", "version"):
            if key not in data:
                raise PolicyError(f"missing top-level '{key}'")
        _strings(data, ("id", "title", "intro"), "policy")
        _not_blank(data, ("id", "version"), "policy")
        if isinstance(data["version"], (bool, dict, list, float)):  # a string, a number or a TOML date
            raise PolicyError(f"policy: version must be a string such as \"2026-11-23\", got {data['version']!r}")
        languages = _languages(data)
    except PolicyError as exc:
        raise PolicyError(f"{source}: {exc}") from None
    return Policy(str(data["id"]), str(data["version"]), str(data.get("title", data["id"])), clauses,
                  unscorable, authors, languages)


def load_policy(path: str | Path) -> Policy:
    """Read and validate a TOML policy file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise PolicyError(f"policy file {path} not found") from None
    except IsADirectoryError:
        raise PolicyError(f"policy file {path}: is a directory, not a file") from None
    except OSError as exc:
        raise PolicyError(f"policy file {path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start}); save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from None
    return parse_policy(data, str(path))
