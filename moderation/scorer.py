"""The public scoring API: load a model, score one comment or a batch, explain a score."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from functools import partial
from importlib import resources
from pathlib import Path

import numpy as np

from .derogation import AFFIRMED_AT_MOST, affirmation_only, derogation_spans, with_line_ends
from .derogation import FLOOR as DEROGATION_FLOOR
from .errors import InputError, ModelError
from .inference import ARRAY_NAMES, READ_ALONE, check_arrays, content_words, from_arrays, to_arrays
from .labels import POLICY_LABELS, STANCES
from .language import identify_languages
from .normalise import GROUP_PLACEHOLDER, Normalised, normalise
from .persistence import SCORING_ARRAYS, check_model_version, load_arrays, load_components, read_manifest, verify_files
from .targets import HEADS as TARGET_HEADS
from .targets import neutralise_idea_criticism

__all__ = ["Article", "Evidence", "Score", "Scorer", "default_model_dir", "load_scorer", "merge_spans", "split_long",
           "worst_of"]

MAX_TEXT_CHARS = 20_000
# What Scorer.self_check scores: words every head and the language identifier read.
SELF_CHECK_TEXT = "Warming up: is the language model loaded? You idiot."
BATCH_CHARS = 250_000  # ``score_pieces`` scores at most this many characters at once (memory: README)


def default_model_dir() -> Path:
    """The directory of the default model shipped inside the package."""
    return Path(str(resources.files("moderation") / "default_model"))


@dataclass(frozen=True)
class Article:
    """An article that comments are posted under: stance is read against it."""

    id: str
    title: str = ""
    body: str = ""

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.body}".strip()


@dataclass(frozen=True)
class Evidence:
    """A span of the ORIGINAL comment text that drove a label's score."""

    label: str
    begin: int
    end: int
    text: str
    weight: float

    def as_dict(self) -> dict:
        return {"label": self.label, "begin": self.begin, "end": self.end, "text": self.text,
                "weight": round(self.weight, 4)}


@dataclass(frozen=True)
class IdeaReading:
    """A comment's insult words aimed at things: their spans in the normalised text, that text with them read
    as "bad", and the heads whose score was read from it (those it lowered)."""

    text: str
    spans: tuple[tuple[int, int], ...]
    heads: tuple[str, ...]


@dataclass
class Score:
    """Scores for one comment; the policy engine turns them into a verdict."""

    scores: dict[str, float]
    language: str
    language_confidence: float
    stance: str | None = None
    stance_scores: dict[str, float] | None = None
    empty: bool = False
    normalised: Normalised | None = field(default=None, repr=False, compare=False)
    # The batch's feature matrix and this comment's row in it, so that explain() need not rebuild it.
    features: tuple | None = field(default=None, repr=False, compare=False)
    # Insult words aimed at things (moderation.targets), when the comment has any that lowered a head.
    idea_reading: IdeaReading | None = field(default=None, repr=False, compare=False)
    # Statements against a group (generalisations, violence wished on it, hatred of it) that raised identity
    # attack (moderation.derogation): (begin, end) in the normalised text, and the heads raised.
    derogation: tuple = field(default=(), repr=False, compare=False)
    # The heads kept at most derogation.AFFIRMED_AT_MOST because the comment only affirms a group ("Jews are people.").
    affirmed: tuple = field(default=(), repr=False, compare=False)

    def as_dict(self) -> dict:
        return {"scores": self.scores, "stance": self.stance, "stance_scores": self.stance_scores,
                "language": self.language}


class Scorer:
    """A loaded, hash-checked model: violation heads, stance head and their manifest."""

    def __init__(self, violation, stance, manifest: dict, directory: Path | None = None):
        # Fitted estimators (``ViolationModel``, ``StanceModel``) score through their compiled form.
        self.violation = violation.compiled() if hasattr(violation, "compiled") else violation
        self.stance = stance.compiled() if hasattr(stance, "compiled") else stance
        self.manifest = manifest
        self.directory = directory
        self._articles: dict[str, tuple] = {}

    @classmethod
    def load(cls, directory: str | Path | None = None) -> Scorer:
        """Load and verify a model directory (the shipped default when none is given).

        Every file the manifest lists is hash-checked; scoring then reads ``scoring.npz`` (arrays,
        no scikit-learn). A model directory written before that file existed is read from its skops
        files instead.
        """
        directory = Path(directory) if directory else default_model_dir()
        manifest = read_manifest(directory)
        check_model_version(manifest, directory)
        if SCORING_ARRAYS in manifest.get("files", {}):
            checked = verify_files(directory, manifest, keep=(SCORING_ARRAYS,))
            arrays = load_arrays(directory, checked[SCORING_ARRAYS], ARRAY_NAMES)
            try:
                violation, stance = from_arrays(arrays)
                _check_policy_heads(violation.heads)
            except (ModelError, KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
                raise ModelError(f"{directory / SCORING_ARRAYS} does not hold a scoring model: {exc}") from exc
            return cls(violation, stance, manifest, directory)
        components, manifest = load_components(directory)
        missing = {"violation", "stance"} - set(components)
        if missing:
            raise ModelError(f"{directory} lacks components {sorted(missing)}")
        from .models import ViolationModel
        from .stance import StanceModel

        for name, kind in (("violation", ViolationModel), ("stance", StanceModel)):
            if not isinstance(components[name], kind):
                raise ModelError(f"{directory / (name + '.skops')} holds a {type(components[name]).__name__}, "
                                 f"not a {kind.__name__}")
        try:  # what scoring would read from scoring.npz, checked the same way
            check_arrays(to_arrays(components["violation"].compiled(), components["stance"].compiled()))
            _check_policy_heads(list(components["violation"].heads))
        except (ModelError, KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
            raise ModelError(f"{directory}'s skops files do not hold a scoring model: {exc}") from exc
        return cls(components["violation"], components["stance"], manifest, directory)

    def self_check(self) -> Scorer:
        """Score and explain one comment, so that a model that loads but cannot score is refused now
        (and its lazy parts load before a first request); a ModelError says why."""
        try:
            self.explain(SELF_CHECK_TEXT, score=self.score(SELF_CHECK_TEXT))
        except Exception as exc:  # whatever breaks, the model cannot be served
            raise ModelError(f"the model in {self.directory} loads but cannot score: {type(exc).__name__}: {exc}") from exc
        return self

    @property
    def version(self) -> str:
        return str(self.manifest.get("model_version", "unknown"))

    # Articles -----------------------------------------------------------------------------
    def add_article(self, article: Article) -> None:
        """Remember an article's features so comments under it get a stance."""
        text = normalise(article.text).text
        X = self.violation.featurizer_.transform([text])
        order = np.argsort(X.indices)  # sorted columns, for the cosine with each comment
        self._articles[article.id] = (X.indices[order].astype(np.int64), X.data[order], content_words(text))

    def forget_article(self, article_id: str) -> None:
        """Drop a registered article (its comments get no stance until it is added again)."""
        self._articles.pop(article_id, None)

    def has_article(self, article_id: str | None) -> bool:
        return article_id is not None and article_id in self._articles

    # Scoring ------------------------------------------------------------------------------
    def score(self, text: str, article_id: str | None = None) -> Score:
        """Score one comment (HTML or plain text) of at most ``MAX_TEXT_CHARS`` characters (see ``score_pieces``)."""
        _check_text(text, None)
        return self.score_batch([text], [article_id])[0]

    def score_batch(self, texts, article_ids=None) -> list[Score]:
        """Score many comments at once; ``article_ids[i]`` names a registered article or is None."""
        texts = [_check_text(t, i) for i, t in enumerate(texts)]
        article_ids = list(article_ids) if article_ids is not None else [None] * len(texts)
        if len(article_ids) != len(texts):
            raise InputError("article_ids must be as long as texts", field="article_ids")
        norms = [normalise(t) for t in texts]
        reading = self.violation.featurizer_.read([n.text for n in norms], lexicon=READ_ALONE)
        X = reading.whole
        probs = self.violation.predict_proba_comments(reading)
        neutral = self._read_idea_criticism(norms, probs)
        derogations, affirmed = self._read_derogation(norms, probs)
        stance = self._stance(X, norms, article_ids)
        languages = identify_languages([n.text for n in norms])
        out = []
        for i, norm in enumerate(norms):
            lang, conf = languages[i]
            scores = {h: round(float(p), 4) for h, p in zip(self.violation.heads, probs[i])}
            scores["severe_toxicity"] = round(_severe(scores), 4)
            st = stance.get(i)
            out.append(Score(scores=scores, language=lang, language_confidence=round(conf, 4),
                             stance=st[0] if st else None, stance_scores=st[1] if st else None,
                             empty=not norm.text, normalised=norm, features=(X, i), idea_reading=neutral.get(i),
                             derogation=derogations.get(i, ()), affirmed=affirmed.get(i, ())))
        return out

    def _read_derogation(self, norms, probs) -> tuple[dict[int, tuple], dict[int, tuple]]:
        """Raise identity attack to at least ``derogation.FLOOR`` for comments that state a dehumanising or
        derogatory generalisation about a group, wish violence on it or hate it (``moderation.derogation``), and
        incitement with it (the larger of threat and identity attack, as ever); keep identity attack, incitement,
        toxicity and personal attack at most ``derogation.AFFIRMED_AT_MOST`` for a comment that only affirms a group
        ("Jews are people."; it names no one to attack: "Women are not stupid!" scored 0.81 for personal attack).
        Returns, by comment index, ((spans), (heads raised)) and (heads lowered)."""
        if "identity_attack" not in self.violation.heads:
            return {}, {}
        heads = self.violation.heads
        raised, affirmed = {}, {}
        for i, norm in enumerate(norms):
            if GROUP_PLACEHOLDER not in norm.text:  # most comments name no group: nothing to read
                continue
            read = with_line_ends(norm)
            spans = derogation_spans(read, norm)
            if not spans:
                lowered = self._keep_affirmation_down(probs, i) if affirmation_only(read, norm.original) else ()
                if lowered:
                    affirmed[i] = lowered
                continue
            before = probs[i].copy()
            row = probs[i:i + 1]  # a view: the model's own rule sets incitement from its parts
            row[0, heads.index("identity_attack")] = max(row[0, heads.index("identity_attack")], DEROGATION_FLOOR)
            self.violation._or_consistent(row)
            lifted = tuple(h for h in ("identity_attack", "incitement")
                           if h in heads and probs[i, heads.index(h)] > before[heads.index(h)])
            if lifted:
                raised[i] = (tuple(spans), lifted)
        return raised, affirmed

    def _keep_affirmation_down(self, probs, i: int) -> tuple[str, ...]:
        """Keep comment ``i``'s identity attack, toxicity and personal attack at most ``AFFIRMED_AT_MOST`` (and so
        incitement, unless threat is higher); the heads lowered."""
        heads = self.violation.heads
        before = probs[i].copy()
        row = probs[i:i + 1]  # a view, as for a raise
        for h in ("identity_attack", "toxicity", "personal_attack"):
            if h in heads:
                row[0, heads.index(h)] = min(row[0, heads.index(h)], AFFIRMED_AT_MOST)
        self.violation._or_consistent(row)
        return tuple(h for h in heads if probs[i, heads.index(h)] < before[heads.index(h)])

    def _read_idea_criticism(self, norms, probs) -> dict[int, IdeaReading]:
        """Score the personal-attack and toxicity heads of comments that aim insult words at things ("a
        stupid plan") on their text with those words read as "bad" (``moderation.targets``); a score only
        ever goes down. Returns, by comment index, the readings that lowered a head."""
        heads = [h for h in TARGET_HEADS if h in self.violation.heads]
        rewritten = {}
        for i, norm in enumerate(norms):
            text, spans = neutralise_idea_criticism(norm.text, partial(_written_as_name, norm))
            if spans:
                rewritten[i] = (text, spans)
        if not rewritten or not heads:
            return {}
        rows = list(rewritten)
        Q = self.violation.predict_proba_comments(
            self.violation.featurizer_.read([text for text, _ in rewritten.values()], lexicon=READ_ALONE))
        lowered: dict[int, list[str]] = {}
        for head in heads:
            j = self.violation.heads.index(head)
            for k, i in enumerate(rows):
                if Q[k, j] < probs[i, j]:
                    probs[i, j] = Q[k, j]
                    lowered.setdefault(i, []).append(head)
        return {i: IdeaReading(rewritten[i][0], tuple(rewritten[i][1]), tuple(hs)) for i, hs in lowered.items()}

    def _stance(self, X, norms, article_ids) -> dict[int, tuple[str, dict]]:
        # Read once: a service thread may drop an article (``forget_article``) while this one scores.
        found = {a: self._articles.get(a) for a in set(article_ids) if a is not None}
        rows = [i for i, a in enumerate(article_ids) if found.get(a) is not None]
        if not rows:
            return {}
        slot_of: dict[str, int] = {}
        slots = np.array([slot_of.setdefault(article_ids[i], len(slot_of)) for i in rows], dtype=np.int64)
        stored = [found[a] for a in slot_of]
        Xc = X if len(rows) == X.shape[0] else X[rows]
        cos = _cosines(Xc, [(cols, vals) for cols, vals, _ in stored], slots)
        P = self.stance.predict_proba(Xc, None, [content_words(norms[i].text) for i in rows],
                                      [stored[k][2] for k in slots], cosines=cos)
        result = {}
        for i, p in zip(rows, P):
            result[i] = (STANCES[int(np.argmax(p))], {s: round(float(v), 4) for s, v in zip(STANCES, p)})
        return result

    # Explanations -------------------------------------------------------------------------
    def explain(self, text: str, labels=POLICY_LABELS, *, score: Score | None = None,
                min_score: float = 0.0, max_spans: int = 5) -> list[Evidence]:
        """Spans of the original text that drove each label's score (labels scoring >= min_score)."""
        score = score or self.score(text)
        norm = score.normalised or normalise(text)
        wanted = [(label, self.violation.driving_head(label, score.scores)) for label in labels
                  if label in self.violation.heads and score.scores.get(label, 0) >= min_score]
        if not wanted:
            return []
        heads = sorted({head for _, head in wanted})
        row = None
        if score.features is not None and score.normalised is not None:
            X, i = score.features
            row = X[i]
        tokens, contrib = self.violation.token_contributions(norm.text, heads, row=row)
        reading = score.idea_reading if score.normalised is not None else None
        read = [h for h in heads if reading is not None and h in reading.heads]
        if read:
            # Those heads scored the text with its insults aimed at things read as "bad": so are their
            # contributions. The rewrite keeps every other character in place; a token inside a rewritten
            # word stands for the whole word.
            neutral_tokens, neutral = self.violation.token_contributions(reading.text, read)
            neutral_tokens = [_widened(t, reading.spans) for t in neutral_tokens]
        # A head the derogation rule raised is explained by the statement it found, not by the model's words.
        stated = score.derogation if score.normalised is not None and score.derogation else ((), ())
        evidence = []
        for label, head in wanted:
            if head in stated[1]:
                for begin, end in stated[0][:max_spans]:
                    b, e = norm.original_span(begin, end)
                    evidence.append(Evidence(label, b, e, norm.original[b:e], DEROGATION_FLOOR))
            elif head in read:
                evidence.extend(_spans(label, norm, neutral_tokens, neutral[:, read.index(head)], max_spans))
            else:
                evidence.extend(_spans(label, norm, tokens, contrib[:, heads.index(head)], max_spans))
        return evidence

    # Texts over the limit -----------------------------------------------------------------
    def score_pieces(self, texts, article_ids=None, *, max_chars: int | None = None) -> list[list[tuple[int, str, Score]]]:
        """Each text scored whole however long it is: as its ``(offset, piece, score)`` pieces of at most
        ``MAX_TEXT_CHARS`` characters (one piece for most texts; ``worst_of`` makes them one score).
        A text of more than ``max_chars`` characters is not scored: its list is empty."""
        texts = list(texts)
        ids = [None] * len(texts) if article_ids is None else list(article_ids)
        if len(ids) != len(texts):
            raise InputError("article_ids must be as long as texts", field="article_ids")
        texts = [_check_type(text, i) for i, text in enumerate(texts)]
        parts = [split_long(text) if max_chars is None or len(text) <= max_chars else [] for text in texts]
        flat = [(i, offset, piece) for i, pieces in enumerate(parts) for offset, piece in pieces]
        out: list[list[tuple[int, str, Score]]] = [[] for _ in texts]
        # Memory follows the characters scored at once (their features), so at most BATCH_CHARS at a
        # time; a piece of a longer text keeps no features (explaining it computes them again).
        start = 0
        while start < len(flat):
            end, size = start, 0
            while end < len(flat) and (end == start or size + len(flat[end][2]) <= BATCH_CHARS):
                size += len(flat[end][2])
                end += 1
            group = flat[start:end]
            scores = self.score_batch([piece for _, _, piece in group], [ids[i] for i, _, _ in group])
            for (i, offset, piece), score in zip(group, scores):
                out[i].append((offset, piece, score if len(parts[i]) == 1 else replace(score, features=None)))
            start = end
        return out

    def explain_pieces(self, pieces, labels=POLICY_LABELS, *, min_score: float = 0.0,
                       deadline: float | None = None) -> list[Evidence]:
        """Evidence for a text from its ``(offset, piece, score)`` pieces, with offsets into the whole
        text: each label's from the piece that scored it highest, the one that decided it.

        Explaining costs more than scoring (about 0.01-0.02 s a 20,000-character piece on a 2-core
        machine): with a ``deadline`` (``time.monotonic()``), no piece is explained after it.
        """
        labels_of: dict[int, list[str]] = {}
        for label in labels:
            worst = max(range(len(pieces)), key=lambda k: pieces[k][2].scores.get(label, 0.0))
            labels_of.setdefault(worst, []).append(label)
        evidence = []
        for k, wanted in sorted(labels_of.items()):
            if deadline is not None and time.monotonic() >= deadline:
                break
            offset, piece, score = pieces[k]
            if score.empty or max(score.scores.get(label, 0.0) for label in wanted) < min_score:
                continue
            evidence += [replace(e, begin=e.begin + offset, end=e.end + offset) if offset else e
                         for e in self.explain(piece, wanted, score=score, min_score=min_score)]
        return evidence


def _check_policy_heads(heads) -> None:
    """A scoring model has a head for every policy label: a policy reads a label without one as 0, so a model
    lacking one would approve what it should hold."""
    lacking = [label for label in POLICY_LABELS if label not in heads]
    if lacking:
        raise ModelError(f"its heads are {list(heads)}: it lacks {', '.join(lacking)}, which every scoring model has")


def _cosines(X, articles: list[tuple[np.ndarray, np.ndarray]], slots: np.ndarray) -> np.ndarray:
    """Dot product of each row of a CSR matrix with its article's vector (sorted columns, values).

    ``slots[i]`` is row i's index into ``articles``. Few entries (a comment or a few) are looked up with
    one binary search in all the articles' columns; more are grouped by article (a stable sort, so each
    row keeps its order), each article's vector written into one dense buffer, read at its rows'
    columns, and cleared again (the buffer costs more than the search for one comment). The same
    values either way, bit for bit (tested).
    """
    if X.nnz < _COSINE_SEARCH_MAX:
        return _cosines_by_search(X, articles, slots)
    products = np.zeros(X.nnz)
    row = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    slot = slots[row]
    order = np.argsort(slot.astype(np.uint16) if len(articles) < 2**16 else slot, kind="stable")  # radix sort
    bounds = np.searchsorted(slot[order], np.arange(len(articles) + 1))
    columns, values = X.indices[order], X.data[order]
    dense = np.zeros(X.shape[1])
    for k, (cols, vals) in enumerate(articles):
        a, b = bounds[k], bounds[k + 1]
        if a == b or not len(cols):
            continue
        dense[cols] = vals
        products[a:b] = values[a:b] * dense[columns[a:b]]
        dense[cols] = 0.0
    return np.bincount(row[order], weights=products, minlength=X.shape[0])


_COSINE_SEARCH_MAX = 20_000


def _cosines_by_search(X, articles: list[tuple[np.ndarray, np.ndarray]], slots: np.ndarray) -> np.ndarray:
    """``_cosines`` by one binary search of every entry in the articles' columns, offset by slot."""
    n = X.shape[1]
    keys = np.concatenate([cols + k * n for k, (cols, _) in enumerate(articles)])
    if not len(keys):
        return np.zeros(X.shape[0])
    vals = np.concatenate([v for _, v in articles]).astype(np.float64)
    row = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    query = slots[row] * n + X.indices
    at = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    hit = keys[at] == query
    return np.bincount(row[hit], weights=X.data[hit] * vals[at[hit]], minlength=X.shape[0])


def _severe(scores: dict[str, float]) -> float:
    # Severe toxicity: toxic AND aimed (an attack or incitement), not mere swearing.
    return scores.get("toxicity", 0.0) * max(scores.get("personal_attack", 0.0), scores.get("incitement", 0.0))


def split_long(text: str, limit: int = MAX_TEXT_CHARS) -> list[tuple[int, str]]:
    """The text as consecutive ``(offset, piece)`` pieces of at most ``limit`` characters, each cut after
    a sentence, a tag or a space where one lies in its second half, so few words are split."""
    pieces, begin = [], 0
    while len(text) - begin > limit:
        window = text[begin:begin + limit]
        cut = next((at + 1 for marks in (".!?\n>", " \t") for at in [max(window.rfind(m) for m in marks)]
                    if at >= limit // 2), limit)
        pieces.append((begin, window[:cut]))
        begin += cut
    pieces.append((begin, text[begin:]))
    return pieces


def worst_of(scores: list[Score]) -> Score:
    """One text's score from its pieces' scores: each label's highest; language and stance from the
    first piece with words."""
    if len(scores) == 1:
        return scores[0]
    lead = next((s for s in scores if not s.empty), scores[0])
    worst = {label: max(s.scores[label] for s in scores) for label in lead.scores}
    return replace(lead, scores=worst, empty=all(s.empty for s in scores), normalised=None, features=None,
                   idea_reading=None, derogation=(), affirmed=())


class _Token:
    """A token's span, read as ``_spans`` reads a regex match's."""

    __slots__ = ("_begin", "_end")

    def __init__(self, begin: int, end: int):
        self._begin, self._end = begin, end

    def start(self) -> int:
        return self._begin

    def end(self) -> int:
        return self._end


def _widened(token, spans):
    """A token of a rewritten text inside one of its rewritten ``spans`` stands for the whole span."""
    for begin, end in spans:
        if begin <= token.start() < end:
            return _Token(begin, end)
    return token


def _written_as_name(norm: Normalised, begin: int, end: int) -> bool:
    """Whether the original text writes the normalised span as a name: with a capital letter inside a sentence
    ("Stupid Bill Gates.", "That's pathetic, Dave."), not in capitals throughout ("THIS BILL IS STUPID") nor
    after "the", "this" and the like, alone or through other capitalised words ("This Bill", "the Rwanda Bill")."""
    b, e = norm.original_span(begin, end)
    word = norm.original[b:e]
    if not word[:1].isupper() or word.isupper():  # "I", "NHS", "THIS BILL IS STUPID"
        return False
    if _starts_sentence(norm.original, b):  # a capital at the start of a sentence says nothing, unless the
        return word.lower() not in _NOT_NAMES and bool(_ADDRESSED.match(norm.original, e))  # word is addressed or
        # owns something: "Hancock, that's ...", "Bill's ..." (not "That's", "It's")
    while True:
        before = norm.original[:b].rstrip()
        previous = _LAST_WORD.search(before)
        if previous is None:  # after a digit or a symbol
            return True
        if previous.group(0).lower() in _DETERMINERS:
            return False
        b = previous.start()
        if not previous.group(0)[:1].isupper() or _starts_sentence(norm.original, b):
            return True


def _starts_sentence(text: str, at: int) -> bool:
    before = _TRAILING_TAGS.sub("", text[:at]).rstrip()  # "<b>Starmer</b>" is inside its sentence
    return not before or before[-1] in _SENTENCE_STARTS


_SENTENCE_STARTS = ".!?:\"'(\u201c\u2018\n"
_TRAILING_TAGS = re.compile(r"(?:<[^<>]*>\s*)+$")
_ADDRESSED = re.compile(r"\s*[,:]|['\u2019]s\b")
_NOT_NAMES = frozenset("""that this it what there here who he she let where how why when everyone everything nobody
    somebody someone today yesterday now well yes no ok okay so and but also sorry honestly seriously frankly""".split())
_LAST_WORD = re.compile(r"[^\W\d_][\w'\u2019-]*$")
_DETERMINERS = frozenset("the this that these those a an new our your their his her its my every".split())


def _check_type(text, index: int | None) -> str:
    if not isinstance(text, str):
        where = "" if index is None else f"comment {index}: "
        raise InputError(f"{where}text must be a string, got {type(text).__name__}", field="text")
    return text


def _check_text(text, index: int | None) -> str:
    _check_type(text, index)
    if len(text) > MAX_TEXT_CHARS:
        where = "" if index is None else f"comment {index}: "
        raise InputError(f"{where}text is {len(text):,} characters, over the limit of {MAX_TEXT_CHARS:,} "
                         "(Scorer.score_pieces scores a longer text in pieces)", field="text")
    return text


def _spans(label, norm: Normalised, tokens, contrib, max_spans) -> list[Evidence]:
    """Merge adjacent strongly contributing tokens into spans of the original text."""
    if not len(tokens) or contrib.max() <= 0:
        return []
    keep = contrib >= max(0.25 * contrib.max(), 1e-6)
    groups: list[list[int]] = []
    for i in np.flatnonzero(keep):
        if groups and groups[-1][-1] == i - 1:
            groups[-1].append(int(i))
        else:
            groups.append([int(i)])
    groups.sort(key=lambda g: -float(contrib[g].sum()))
    out = []
    for g in groups[:max_spans]:
        begin, end = norm.original_span(tokens[g[0]].start(), tokens[g[-1]].end())
        out.append(Evidence(label, begin, end, norm.original[begin:end], float(contrib[g].sum())))
    return sorted(out, key=lambda e: e.begin)


def merge_spans(spans) -> list[tuple[int, int]]:
    """``(begin, end)`` spans sorted, with overlapping or touching ones merged into one."""
    merged: list[list[int]] = []
    for begin, end in sorted(spans):
        if merged and begin <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([begin, end])
    return [(begin, end) for begin, end in merged]


def load_scorer(directory: str | Path | None = None) -> Scorer:
    """Load and verify a model directory (the shipped default when none is given)."""
    return Scorer.load(directory)
