"""The service's core: one per worker, holding the model, the policies and the database engine.

``moderate`` is what every protocol calls: read what is stored, score what is new, decide with
the site's policy, and store the verdict durably before the view answers.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from moderation.errors import ModelError, PolicyError
from moderation.labels import ACTIONS
from moderation.policy import AuthorState, Policy, load_policy
from moderation.scorer import MAX_TEXT_CHARS, Article, Evidence, Score, Scorer, merge_spans, worst_of
from training.registry import LIVE_FILE, Registry, RegistryError, read_live

from . import db
from .config import as_list, as_mapping, default_policy_file, flag, where_set
from .errors import ServiceUnavailable
from .metrics import Metrics

__all__ = [
    "DEFAULT_SITE",
    "CommentIn",
    "DeferredMigration",
    "Judgement",
    "ModelWatcher",
    "Service",
    "judge",
    "moderate",
    "record",
    "service",
    "verdict_json",
]

log = logging.getLogger(__name__)

DEFAULT_SITE = "default"
_MIN_QUOTE = 20  # characters a reply must copy from its parent before we treat it as a quotation
_MAX_PASSAGES = 20
_EVIDENCE_BUDGET_S = 2.0  # per request, so a full batch of long comments still answers in seconds
# A comment is scored whole up to 100,000 characters (in pieces of at most 20,000, each cut after a sentence,
# tag or space, so up to ten of them; about 0.3 s); longer ones are not.
_MAX_CHARS = 5 * MAX_TEXT_CHARS
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
# Articles a worker keeps registered with its scorer for stance, least recently used evicted first.
# An article's features (sorted hashed n-gram columns and weights, its content words) take about 57 KB
# for a real-length news article (measured in review) and about 107 KB for a 4,400-character one, so
# 512 articles hold some 29-55 MB per worker: a worker (about 140-180 MB after loading and scoring)
# stays under the 300 MB target however many articles it sees; without a bound, ~2,000 articles pushed
# it past 300 MB and workers are never recycled. An evicted article is registered again from the
# database the next time a comment under it arrives (``moderate`` reads each comment's article row on
# every request; registering costs about a millisecond), so its comments still get a stance.
MAX_ARTICLES = 512


@dataclass(frozen=True)
class CommentIn:
    """One comment as a client sent it."""

    comment_id: str
    text: str
    article_id: str | None = None
    parent_id: str | None = None
    author_id: str | None = None
    revision: int | None = None  # the CMS's count of the comment's edits, when it sends one


@dataclass
class Judgement:
    """The model's scores (None when it could not score) and the policy's verdict for one comment."""

    comment: CommentIn
    verdict: object
    score: object = None
    fallback: str | None = None
    strike: bool = False
    pieces: int = 1  # scored in this many pieces (a comment over the scorer's limit)


class ModelWatcher:
    """Follows a model registry's LIVE file and hands the worker the live version, loaded and checked.

    ``poll`` runs before every request and costs one ``stat`` at most once per interval. When LIVE
    names another version, a thread loads it (hash and type checks, then a warm-up) while the worker
    keeps answering with the model it has; the next request swaps it in, between requests, so no
    request is scored by two models. A load is swapped in only if LIVE still names its version when
    it is done: one overtaken by a rollback or a newer promotion is dropped, and what LIVE names now
    is acted on. A version that fails to load is refused, logged and counted, and the worker keeps
    its model until LIVE changes again.
    """

    def __init__(self, root: Path, interval: float, metrics: Metrics | None = None):
        self.root = Path(root)
        self.interval = interval
        self.metrics = metrics  # set by Service.start once the first model is chosen
        self._checked = float("-inf")
        self._seen: tuple | None = None  # LIVE's stat when it was last read
        self._wanted: str | None = None  # the version LIVE named then
        self._refused: tuple | None = None  # (version, LIVE's stat) of the last refusal: not retried until LIVE changes
        self._lock = threading.Lock()
        self._loading: tuple | None = None  # (version, LIVE's stat) being loaded
        self._ready: Scorer | None = None

    def first_model(self, fallback_dir: str) -> Scorer:
        """The model a worker starts with: LIVE's version; when that one is refused, the most recent
        version live before it that loads, else ``fallback_dir`` (MODEL_DIR, or the shipped model).

        A worker started after a refusal (gunicorn replacing one that died) thus serves what the
        others serve instead of failing to boot, which would stop the whole service.
        """
        self._look(force=True)
        version = self._wanted
        if not version:
            try:
                lost = Registry(self.root).lineage()
            except (RegistryError, OSError, ValueError):
                lost = []
            if lost:  # LIVE deleted: the history says which version was live; the operator must put it back
                log.error("%s is missing or empty, but the registry's history says %s is live: this worker scores "
                          "with %s until LIVE names a version again (echo %s > %s)", self.root / LIVE_FILE, lost[-1],
                          fallback_dir or "the shipped model", lost[-1], self.root / LIVE_FILE)
            return _load_scorer(fallback_dir)
        try:
            return _load_version(self.root, version)
        except Exception as exc:  # noqa: BLE001 - as in _load: refuse it, start with the last good model
            log.error("model %s named in %s refused, starting with the last good model: %s", version,
                      self.root / LIVE_FILE, exc)
            self._refused = (version, self._seen)
            refusal = exc
        for earlier in _earlier_live(self.root, version):
            try:
                scorer = _load_version(self.root, earlier)
            except Exception as exc:  # noqa: BLE001 - try the one live before it
                log.error("model %s, live before %s, refused too: %s", earlier, version, exc)
                continue
            log.warning("this worker scores with %s (live before %s) until LIVE names a version that loads",
                        earlier, version)
            return scorer
        log.warning("no version live before %s loads: this worker scores with %s until LIVE names a version "
                    "that loads", version, fallback_dir or "the shipped model")
        try:
            return _load_scorer(fallback_dir)
        except RuntimeError as exc:
            raise RuntimeError(f"cannot start: model {version} named in {self.root / LIVE_FILE} was refused "
                               f"({refusal}), no version live before it loads, and {exc}") from exc

    def refused_at_start(self) -> str | None:
        """The version LIVE named that ``first_model`` refused, if any."""
        return self._refused[0] if self._refused else None

    def poll(self, current: Scorer) -> Scorer | None:
        """A newly loaded live model to swap in, or None; starts a load when LIVE names another version."""
        self._look(force=self._ready is not None)  # a finished load is checked against LIVE as it is now
        with self._lock:
            ready, self._ready = self._ready, None
            if ready is not None and ready.version == self._wanted:
                return ready
            if ready is not None:
                log.info("model %s loaded, but %s now names %s: not swapped in", ready.version,
                         self.root / LIVE_FILE, self._wanted)
            wanted = (self._wanted, self._seen)
            if self._loading or not wanted[0] or wanted[0] == current.version or wanted == self._refused:
                return None
            self._loading = wanted
        threading.Thread(target=self._load, args=wanted, name=f"load-model-{wanted[0]}", daemon=True).start()
        return None

    def wait(self, timeout: float = 60.0) -> None:
        """Block until no load is in progress (for tests and the command line)."""
        deadline = time.monotonic() + timeout
        while self._loading and time.monotonic() < deadline:
            time.sleep(0.02)

    def _look(self, force: bool = False) -> None:
        """Read LIVE again when the interval has passed (or ``force``) and its stat has changed."""
        now = time.monotonic()
        if not force and now - self._checked < self.interval:
            return
        self._checked = now
        try:
            st = os.stat(self.root / LIVE_FILE)
        except OSError:
            return
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        if key != self._seen:
            # The stat is taken before the read: a LIVE replaced in between shows a new stat next time.
            self._seen, self._wanted = key, read_live(self.root)

    def _load(self, version: str, seen: tuple) -> None:
        try:
            scorer = _load_version(self.root, version)
        except Exception as exc:  # noqa: BLE001 - any failure means: refuse it and keep the current model
            log.error("model %s named in %s refused, keeping the current model: %s", version,
                      self.root / LIVE_FILE, exc)
            self.metrics.model_reload(version, "refused")
            with self._lock:
                self._refused, self._loading = (version, seen), None
            return
        with self._lock:
            self._ready, self._loading = scorer, None


class DeferredMigration:
    """The start-up migration of a database that did not answer then: tried again, from a thread, on
    a later request, until it is done once.

    An attempt starts at most every ``retry_s`` seconds and never blocks the request that starts it;
    until it is done, queries fail with the service's 503 and ``/readyz`` says why.
    """

    retry_s = 5.0

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.done = False
        self._lock = threading.Lock()
        self._tried = float("-inf")
        self._thread: threading.Thread | None = None

    def poke(self) -> None:
        """Before a request: start an attempt unless one is running or the last began under ``retry_s`` ago."""
        if self.done:
            return
        now = time.monotonic()
        with self._lock:
            if self.done or now - self._tried < self.retry_s or (self._thread and self._thread.is_alive()):
                return
            self._tried = now
            self._thread = threading.Thread(target=self._attempt, name="migrate-database", daemon=True)
            self._thread.start()

    def wait(self, timeout: float = 60.0) -> None:
        """Block until the attempt in progress, if any, is over (for tests)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _attempt(self) -> None:
        try:
            unreachable = _migrate(self.engine)
        except Exception as exc:  # noqa: BLE001 - this thread has no caller to tell: log it, stop trying
            log.error("database migration failed: %s. This worker stays not ready (/readyz 503) until the schema "
                      "is current: fix the cause and run `flask --app webhook migrate`", exc)
            self.done = True
            return
        if unreachable is not None:
            log.warning("database still unreachable (%s): the migration is tried again on a later request",
                        _error_name(unreachable))
            return
        log.info("database reachable: schema at version %d", db.SCHEMA_VERSION)
        self.done = True


@dataclass
class Service:
    """Everything a worker loads once: model, policies, database engine, metrics, secrets."""

    scorer: Scorer
    policy: Policy
    site_policies: dict[str, Policy]
    engine: sa.Engine
    metrics: Metrics
    secrets: list[str] = field(default_factory=list)
    coral_secrets: list[str] = field(default_factory=list)
    perspective_keys: list[str] = field(default_factory=list)
    signature_window: int = 300
    watcher: ModelWatcher | None = None
    migration: DeferredMigration | None = None
    # Scorer keys of the articles this worker registered, least recently used first, and the scorer they
    # were registered with (a swapped-in model starts with none): see MAX_ARTICLES.
    _article_lru: OrderedDict = field(default_factory=OrderedDict, init=False, repr=False)
    _article_scorer: Scorer | None = field(default=None, init=False, repr=False)
    _article_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @classmethod
    def start(cls, config, instance_path: str) -> Service:
        """Load and check the model and policies, open the database and migrate it.

        A database that does not answer does not stop the worker: it starts not ready, and the
        migration is tried again on later requests (:class:`DeferredMigration`). A migration that
        fails on a database that answers stops it.
        """
        registry = str(config.get("REGISTRY") or "")
        if registry and not Path(registry).is_dir():  # else the fallback model would be served, and never left
            raise RuntimeError(f"cannot start: {where_set('REGISTRY')} is {registry!r}, which is not a folder: "
                               "name the registry/ folder that `make promote` "
                               "writes (`make train` or `python -m training.retrain init` makes it), or leave it empty")
        watcher = ModelWatcher(Path(registry), float(config["RELOAD_INTERVAL"])) if registry else None
        scorer = config.get("SCORER")
        if scorer is not None:
            scorer.self_check()  # load lazy parts now, not on a first request
        else:
            scorer = watcher.first_model(config["MODEL_DIR"]) if watcher else _load_scorer(config["MODEL_DIR"])
        policy, site_policies = _load_policies(config["POLICY"], config["SITE_POLICIES"])
        url = config["DATABASE_URL"] or f"sqlite:///{Path(instance_path) / 'moderation.sqlite'}"
        engine = db.make_engine(url, timeout=float(config["DB_TIMEOUT"]))
        migration = None
        if flag(config["AUTO_MIGRATE"]):
            unreachable = _migrate(engine)
            problem = _misconfigured(engine, unreachable) if unreachable is not None else None
            if problem:  # no outage to wait out: a setting to fix
                raise RuntimeError(f"cannot start: {where_set('DATABASE_URL')} names a database that cannot be used: "
                                   f"{problem}")
            if unreachable is not None:
                log.error("database unreachable at start (%s): this worker starts not ready (/readyz 503) and "
                          "migrates the database once it answers", _error_name(unreachable))
                migration = DeferredMigration(engine)
        warn_unscored_labels(scorer, [policy, *site_policies.values()])
        metrics = Metrics(scorer.version)
        if watcher is not None:
            watcher.metrics = metrics
            if watcher.refused_at_start():
                metrics.model_reload(watcher.refused_at_start(), "refused")
        return cls(scorer, policy, site_policies, engine, metrics,
                   as_list(config["SECRETS"]), as_list(config["CORAL_SECRETS"]),
                   as_list(config["PERSPECTIVE_KEYS"]), int(config["SIGNATURE_WINDOW"]), watcher, migration)

    def follow_registry(self) -> None:
        """Before a request: swap in a newly promoted (or rolled back) model once it is loaded and checked,
        and try a start-up migration again that the database was not there for."""
        if self.migration is not None:
            self.migration.poke()
        if self.watcher is None:
            return
        loaded = self.watcher.poll(self.scorer)
        if loaded is not None:
            previous, self.scorer = self.scorer, loaded
            self.metrics.model_swapped(previous.version, loaded.version)
            log.info("model %s is live in this worker (was %s)", loaded.version, previous.version)
            warn_unscored_labels(loaded, [self.policy, *self.site_policies.values()])

    def policy_for(self, site_id: str) -> Policy:
        return self.site_policies.get(site_id, self.policy)

    def article_keys(self, site_id: str, stored: dict[str, dict]) -> dict[str, str]:
        """Scorer keys of stored articles, registering any this worker has not seen in this version
        (or has evicted): at most ``MAX_ARTICLES`` stay registered, the least recently used leave first.

        This call's articles are the most recently used, so none of them is evicted before its
        comments are scored (a single call with more than ``MAX_ARTICLES`` articles keeps them all
        until the next call). Sync workers serve one request at a time; under threaded workers the
        lock keeps the list whole, and in the rare case that other threads register more than
        ``MAX_ARTICLES`` articles between this call and its scoring, its comments get no stance
        (``Scorer`` reads each article once, so nothing fails)."""
        with self._article_lock:
            scorer, lru = self.scorer, self._article_lru
            if self._article_scorer is not scorer:  # a new model: its scorer holds no articles of ours
                lru.clear()
                self._article_scorer = scorer
            keys = {}
            for article_id, row in stored.items():
                if not (row["title"] or row["body"]):
                    continue  # known id (from Coral), no text yet: no stance
                key = f"{site_id}\x1f{article_id}\x1f{row['text_sha256']}"
                if not scorer.has_article(key):
                    scorer.add_article(Article(key, row["title"], row["body"]))
                lru[key] = None
                lru.move_to_end(key)
                keys[article_id] = key
            while len(lru) > max(MAX_ARTICLES, len(keys)):
                scorer.forget_article(lru.popitem(last=False)[0])
            return keys


def _load_checked(model_dir: str | Path | None) -> Scorer:
    """A model loaded (hash and type checks) and warmed up, so its lazy parts load now, not on a request."""
    return Scorer.load(model_dir or None).self_check()


def _load_version(root: Path, version: str) -> Scorer:
    """A registry version loaded and checked as `make promote` checks it (``Registry.load_version``):
    refused when LIVE names a path out of the registry or a renamed copy of another version."""
    return Registry(root).load_version(version)


def _earlier_live(root: Path, refused: str) -> list[str]:
    """The versions live before ``refused``, most recent first; rolled-back ones are left out (the registry's lineage)."""
    try:
        lineage = Registry(root).lineage()
    except (OSError, ValueError, KeyError, RegistryError) as exc:
        log.error("the history of the registry %s cannot be read: %s", root, exc)
        return []
    return [version for version in dict.fromkeys(reversed(lineage)) if version != refused]


def _load_scorer(model_dir: str) -> Scorer:
    try:
        return _load_checked(model_dir)
    except ModelError as exc:
        where = model_dir or "the shipped default model (moderation/default_model)"
        raise RuntimeError(f"cannot start: the model in {where} could not be loaded: {exc}. "
                           "Set MODERATION_MODEL_DIR to a trained model or run `make train`.") from exc


def _migrate(engine: sa.Engine) -> Exception | None:
    """Migrate the database; None when done, the error when the database does not answer (try later).

    A migration that fails on a database that answers raises: no outage, so retrying would not fix it.
    """
    unreachable = _unreachable(engine)
    if unreachable is not None:
        return unreachable
    try:
        db.migrate(engine)
    except Exception:
        unreachable = _unreachable(engine)  # it went away during the migration: an outage after all
        if unreachable is None:
            raise
    return unreachable


def _unreachable(engine: sa.Engine) -> Exception | None:
    """The error a connection to the database ends in, or None when it answers."""
    try:
        with db.connect(engine) as conn:
            db.ping(conn)
    except sa.exc.SQLAlchemyError as exc:
        return exc
    return None


# What a database server answers for a setting that no wait will fix (it answered, so it is no outage).
_SETTING_ERRORS = ("does not exist", "invalid port", "invalid integer value", "invalid connection option")


def _misconfigured(engine: sa.Engine, exc: Exception) -> str | None:
    """Why the configured database server cannot be used however long the service waits (it answered: the
    database or role is unknown to it, or the URL's port or options are refused), or None when it may be an
    outage (refused connections, timeouts, a password the server may yet accept; a SQLite file whose folder
    is not there yet, a volume not mounted)."""
    if engine.url.get_backend_name() == "sqlite":
        return None
    cause = str(getattr(exc, "orig", None) or exc)
    return _error_name(exc) if any(sign in cause for sign in _SETTING_ERRORS) else None


def _error_name(exc: Exception) -> str:
    """The error's class and the driver's first line, which name neither the URL nor its password."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def warn_unscored_labels(scorer, policies) -> list[str]:
    """Log (and return) each policy clause label the model gives no score for: such a clause never fires
    (a spam clause with a model trained before the spam head). Not an error: the site may be between models."""
    heads = set(getattr(scorer.violation, "heads", ()))
    missing = sorted({f"{p.id}: {label}" for p in policies for label in p.labels if label not in heads})
    if heads and missing:
        log.warning("model %s gives no score for these policy labels, so their clauses never fire: %s",
                    scorer.version, ", ".join(missing))
    return missing


def _load_policies(default_file: str, site_files) -> tuple[Policy, dict[str, Policy]]:
    try:
        policy = load_policy(default_file or default_policy_file())
        sites = {site: load_policy(path) for site, path in as_mapping(site_files).items()}
    except (PolicyError, ValueError) as exc:
        raise RuntimeError(f"cannot start: {exc}. Check MODERATION_POLICY and MODERATION_SITE_POLICIES.") from exc
    return policy, sites


def service() -> Service:
    """This worker's :class:`Service`."""
    return current_app.extensions["moderation"]


# Moderation ----------------------------------------------------------------------------------------
def moderate(site_id: str, comments: list[CommentIn], source: str, context: dict[str, str] | None = None,
             article_url: str | None = None) -> list[dict]:
    """Verdicts for ``comments``, stored before they are returned; already-judged comments are reused.

    ``context`` maps comment ids to texts the request itself carries (a thread's other comments), so
    replies can be read against their parents.
    """
    svc = service()
    policy = svc.policy_for(site_id)
    try:
        with db.connect(svc.engine) as conn:
            stored = db.latest_verdicts(conn, site_id, [c.comment_id for c in comments])
            waiting = [c.article_id or stored[c.comment_id]["article_id"] for c in comments
                       if _without_stance(stored.get(c.comment_id))]
            readable = {a for a, row in db.articles_by_id(conn, site_id, waiting).items() if row["title"] or row["body"]}
            authors = db.authors_by_id(conn, site_id, [c.author_id or (stored.get(c.comment_id) or {}).get("author_id")
                                                       for c in comments])
            todo = [_with_stored_refs(c, stored.get(c.comment_id)) for c in comments
                    if not _reusable(stored.get(c.comment_id), c, readable)
                    or (source == "coral" and _author_rules_changed(policy, stored[c.comment_id], authors))]
            articles = db.articles_by_id(conn, site_id, [c.article_id for c in todo])
            parents = {**db.comment_texts(conn, site_id, [c.parent_id for c in todo]), **(context or {})}
            struck = db.struck_comments(conn, site_id, [c.comment_id for c in todo if c.comment_id in stored])
    except sa.exc.SQLAlchemyError as exc:
        raise database_unavailable(exc) from exc
    if todo:
        judgements = judge(svc, policy, site_id, todo, articles, authors, parents, struck)
        heads = {c.comment_id: stored.get(c.comment_id) for c in todo}  # as read above; the write re-checks
        stored.update(record(svc, site_id, judgements, source, article_url, heads))
    return [verdict_json(stored[c.comment_id]) for c in comments]


def _with_stored_refs(comment: CommentIn, row: dict | None) -> CommentIn:
    """An edit sent without its article, parent or author is judged (and stored) with the stored ones."""
    if row is None:
        return comment
    return replace(comment, article_id=comment.article_id or row["article_id"],
                   parent_id=comment.parent_id or row["parent_id"], author_id=comment.author_id or row["author_id"])


def _same_text(row: dict | None, comment: CommentIn) -> bool:
    return row is not None and row["text_sha256"] == db.text_sha256(comment.text)


def _without_stance(row: dict | None) -> bool:
    """A stored verdict that was scored but got no stance (its article was not registered then)."""
    return row is not None and row["scores"] is not None and row["stance"] is None and row["article_id"] is not None


def _stale(row: dict | None, comment: CommentIn) -> bool:
    """Whether the request is older than the stored verdict by the CMS's own revisions (a late retry of a
    text the comment has since been edited from): the stored verdict answers it, and nothing is stored."""
    return (comment.revision is not None and row is not None and row.get("revision") is not None
            and comment.revision < row["revision"])


def _reusable(row: dict | None, comment: CommentIn, readable_articles: set[str]) -> bool:
    """Whether a comment's stored verdict answers this request: a request older than it (:func:`_stale`),
    or the same text, no article, parent or author id that differs from the stored one, and not a verdict
    without stance whose article can now be read. Otherwise the comment is judged again, as a new version."""
    if _stale(row, comment):
        return True
    if not _same_text(row, comment):
        return False
    if any(sent is not None and sent != row[name] for name, sent in
           (("article_id", comment.article_id), ("parent_id", comment.parent_id), ("author_id", comment.author_id))):
        return False
    return not (_without_stance(row) and (comment.article_id or row["article_id"]) in readable_articles)


def _author_rules_changed(policy: Policy, row: dict, authors: dict) -> bool:
    """Whether the author rules now decide otherwise for this author than they did in the stored verdict.

    Only for Coral, which sends no comment id: a comment is keyed by its text, so a reader's new comment
    that repeats an earlier one word for word maps to the stored verdict. Once the reader has been
    blocked (or restored) since, that verdict must not answer for the new comment. A native comment id
    names one comment, and re-sending it gets its stored verdict.
    """
    now = policy.author_action(AuthorState(**_author_state(authors.get(row["author_id"]))))
    clause = policy.authors.get("clause")
    then = max((r["action"] for r in row["reasons"] or () if r.get("label") is None and r.get("clause_id") == clause),
               key=ACTIONS.index, default="approve")
    return now != then


def database_unavailable(exc: Exception) -> ServiceUnavailable:
    log.error("database error: %s", exc)
    return ServiceUnavailable("the database did not answer; the comment was not judged. Retry shortly.")


def without_quote(text: str, parent: str | None) -> str:
    """The reply with the passages it copies from its parent blanked out (offsets kept).

    Quoting an abusive comment in order to answer it is not abuse; blanking with spaces keeps
    every evidence offset pointing at the same characters of the original reply. A passage is the
    whole parent or one of its sentences, found verbatim: linear in the reply's length, whatever
    the two texts hold.
    """
    if not parent or len(text) < _MIN_QUOTE:
        return text
    merged = merge_spans(span for piece in _passages(parent) for span in _occurrences(text, piece))
    quoted = sum(end - begin for begin, end in merged)
    if not quoted or quoted > 0.9 * len(text.strip()):
        return text  # nothing quoted, or a reply that is all quotation: judged as written
    chars = list(text)
    for begin, end in merged:
        chars[begin:end] = " " * (end - begin)
    return "".join(chars)


def _passages(parent: str) -> list[str]:
    pieces = [parent.strip()] + [m.group(0).strip() for m in _SENTENCE.finditer(parent)]
    return list(dict.fromkeys(p for p in pieces if len(p) >= _MIN_QUOTE))[:_MAX_PASSAGES]


def _occurrences(text: str, piece: str):
    start = text.find(piece)
    while start != -1:
        yield start, start + len(piece)
        start = text.find(piece, start + len(piece))


def judge(svc: Service, policy: Policy, site_id: str, comments: list[CommentIn], articles: dict,
          authors: dict, parents: dict[str, str], struck: set[str] = frozenset()) -> list[Judgement]:
    """Score a list of comments in one batch and decide each with the policy.

    The comments are decided in order, and a strike one of them earns counts for the author's later
    ones (a batch holding an insult and then "Nice article." by an author one strike from pre-moderation
    holds the second). ``struck``: ids of comments that already count a strike (a rejection, the model's
    or a moderator's, not taken back): as ``record`` counts strikes, one rejected again adds none.

    A comment over the scorer's limit (only Coral sends one: the other protocols refuse it) is scored
    whole, in pieces within the limit, and judged by its worst piece; one of more than
    ``_MAX_CHARS`` characters gets the policy's "error" fallback, as if it could not be scored.
    """
    keys = svc.article_keys(site_id, articles)
    texts = [without_quote(c.text, parents.get(c.parent_id)) for c in comments]
    try:
        scored = svc.scorer.score_pieces(texts, [keys.get(c.article_id) for c in comments], max_chars=_MAX_CHARS)
    except Exception as exc:  # noqa: BLE001 - an unscorable comment gets the policy's fallback, not a 500
        log.warning("scoring failed, using the policy's fallback: %s", exc)
        return [Judgement(c, policy.fallback("error", AuthorState(**_author_state(authors.get(c.author_id)))),
                          fallback="error") for c in comments]
    floor = min(clause.hold_at for clause in policy.clauses)
    deadline = time.monotonic() + _EVIDENCE_BUDGET_S
    out = []
    earlier: dict[str, int] = {}  # strikes earned by the comments before, by author
    for i, comment in enumerate(comments):
        author = AuthorState(**_author_state(authors.get(comment.author_id)))
        author = replace(author, strikes=author.strikes + earlier.get(comment.author_id, 0))
        if not scored[i]:
            log.warning("comment %r is %d characters, too long to score (at most %d): using the policy's fallback",
                        comment.comment_id, len(comment.text), _MAX_CHARS)
            out.append(Judgement(comment, policy.fallback("error", author), fallback="error"))
            continue
        score = worst_of([s for _, _, s in scored[i]])
        evidence = _deciding_evidence(svc.scorer, scored[i], policy.labels, floor, deadline)
        verdict = policy.decide(score, evidence, author)
        fallback = _fallback_kind(policy, score)
        strike = verdict.action == "reject" and any(r.label for r in verdict.reasons if r.action == "reject")
        if strike and comment.author_id and comment.comment_id not in struck:
            earlier[comment.author_id] = earlier.get(comment.author_id, 0) + 1
        out.append(Judgement(comment, verdict, score, fallback, strike, len(scored[i])))
    return out


def _deciding_evidence(scorer: Scorer, pieces: list[tuple[int, str, Score]], labels: tuple[str, ...], floor: float,
                       deadline: float) -> list[Evidence]:
    """Evidence for a comment from its (offset, piece, score) pieces (``Scorer.explain_pieces``); past
    the request's evidence budget, verdicts come without it."""
    try:
        return scorer.explain_pieces(pieces, labels, min_score=floor, deadline=deadline)
    except Exception as exc:  # noqa: BLE001 - evidence is an aid: a verdict without it is still one
        log.warning("explain failed: %s", exc)
        return []


def _author_state(row: dict | None) -> dict:
    return {"strikes": row["strikes"], "status": row["status"]} if row else {}


def _fallback_kind(policy: Policy, score) -> str | None:
    return policy.unscorable_kind(score)


def record(svc: Service, site_id: str, judgements: list[Judgement], source: str,
           article_url: str | None = None, heads: dict[str, dict | None] | None = None) -> dict[str, dict]:
    """Store comments, verdicts, strikes and audit lines in one transaction; return the stored rows.

    ``heads``: each comment's latest verdict (version, text hash, action) as the caller read it
    before scoring, or None for a comment with none. The first attempt trusts it and saves a query
    per comment: a verdict another worker stored since then has the version this one would take,
    so the unique (comment, version) constraint fails the transaction, and the next attempt reads
    the head inside the write transaction.
    """
    for attempt in range(3):
        try:
            with db.transaction(svc.engine) as conn:
                stored = {j.comment.comment_id: _record_one(conn, svc, site_id, j, source, article_url, heads,
                                                            trust=attempt == 0)
                          for j in judgements}
            for j in judgements:
                if stored[j.comment.comment_id][1]:
                    svc.metrics.verdict(j.verdict.action, _deciding_label(j))
            return {comment_id: row for comment_id, (row, _new) in stored.items()}
        except sa.exc.IntegrityError as exc:
            # Another worker stored the same comment between our read and our write: go again,
            # and we will find its row. Three collisions in a row: the client retries, as for a busy database.
            if attempt == 2:
                log.warning("comments of site %s collided with other writes three times running", site_id)
                raise ServiceUnavailable("other requests were storing the same comments at the same time; "
                                         "the comment was not judged. Retry shortly.") from exc
        except sa.exc.SQLAlchemyError as exc:
            raise database_unavailable(exc) from exc
    raise AssertionError("unreachable")


def _record_one(conn, svc: Service, site_id: str, j: Judgement, source: str, article_url: str | None,
                heads: dict[str, dict | None] | None, trust: bool) -> tuple[dict, bool]:
    c = j.comment
    known = heads is not None and c.comment_id in heads
    head = heads[c.comment_id] if known and trust else db.latest_head(conn, site_id, c.comment_id)
    read_version = (heads[c.comment_id] or {}).get("version") if known else None
    # Another worker stored this text between our read and our write (the head moved on from what we read,
    # or we read nothing to compare with): its verdict is the answer. So is a newer edit stored meanwhile
    # when we were judging the read text again (new ids, a stance, author rules): storing that older text
    # on top would undo the edit.
    moved = known and head is not None and head["version"] != read_version
    if _stale(head, c):  # an edit with a later revision was stored since this request's was read
        return db.find_verdict(conn, site_id, c.comment_id), False
    if (_same_text(head, c) and (not known or moved)) or (moved and _same_text(heads[c.comment_id], c)):
        return db.find_verdict(conn, site_id, c.comment_id), False
    if c.article_id and article_url is not None:
        db.note_article(conn, site_id, c.article_id, article_url, source)
    # A comment sent under another author than the stored one: its strike, if it counts one, was the old
    # author's, and goes with the comment (the new verdict's strike, if any, is the new author's).
    prior = heads.get(c.comment_id) if known and trust else None
    before = (db.authored(conn, site_id, c.comment_id) if c.author_id is not None and head is not None
              and (prior is None or prior.get("author_id") != c.author_id) else None)
    saved = db.store_comment(conn, site_id, c.comment_id, c.text, c.article_id, c.parent_id, c.author_id, source)
    if before and before[0] and before[1] and before[0] != saved["author_id"]:
        db.set_struck(conn, site_id, before[0], saved["id"], False)
    verdict = _verdict_fields(svc, j)
    version = head["version"] + 1 if head else 1
    row = db.insert_verdict(conn, saved["id"], version, c.text, verdict)
    author_id = saved["author_id"]
    # One strike per comment, whoever counted it: an edit rejected again while the comment already counts one
    # (the model's or a moderator's rejection, not taken back by an approval) adds none.
    struck = bool(j.strike and author_id) and db.set_struck(conn, site_id, author_id, saved["id"], True)
    detail = {"version": version, "action": verdict["action"], "source": source, "strike": bool(struck),
              "model_version": verdict["model_version"], "policy_version": verdict["policy_version"]}
    if len(c.text) > MAX_TEXT_CHARS:  # a reader of the record can tell the comment was over the scorer's limit
        detail["text_chars"] = len(c.text)
        if j.score is not None:  # not when it was too long to score at all (the policy's fallback)
            detail["scored_in_pieces"] = j.pieces
    db.insert_audit(conn, "verdict", site_id, c.comment_id, detail)
    row.update(site_id=site_id, comment_id=c.comment_id, article_id=saved["article_id"],
               parent_id=saved["parent_id"], author_id=author_id, source=source)
    return row, True


def _verdict_fields(svc: Service, j: Judgement) -> dict:
    verdict = j.verdict.as_dict()
    score = j.score
    return {**verdict, "fallback": j.fallback, "model_version": svc.scorer.version, "revision": j.comment.revision,
            "scores": score.scores if score else None, "stance": score.stance if score else None,
            "stance_scores": score.stance_scores if score else None,
            "language": score.language if score else None}


def _deciding_label(j: Judgement) -> str:
    if j.fallback:
        return "unscorable"
    deciding = [r for r in j.verdict.reasons if r.action == j.verdict.action]
    if not deciding:
        return "none"
    return max(deciding, key=lambda r: r.score or 0.0).label or "author"


def verdict_json(row: dict) -> dict:
    """A stored verdict as the native API answers it."""
    return {
        "site_id": row["site_id"], "comment_id": row["comment_id"], "version": row["version"],
        "article_id": row["article_id"], "parent_id": row["parent_id"], "author_id": row["author_id"],
        "action": row["action"], "reasons": row["reasons"], "scores": row["scores"], "stance": row["stance"],
        "stance_scores": row["stance_scores"], "language": row["language"], "fallback": row["fallback"],
        "model_version": row["model_version"], "policy_version": row["policy_version"],
        "created_at": row["created_at"].isoformat(timespec="milliseconds") + "Z", "revision": row.get("revision"),
    }
