"""The model registry: versioned model directories, the live pointer and the history of changes.

Layout (``registry/`` in the repository, or ``$MODERATION_REGISTRY``)::

    versions/<model_version>/   model files + manifest.json (hashes, data provenance), MODEL_CARD.md,
                                evaluation/ (report, comparison.json, plots)
    LIVE                        one line: the version the service scores with
    history.jsonl               every init, promote, override and rollback: time, user, from, to, reason;
                                written to disk before LIVE is replaced (``took_effect``)
    data/                       exported moderators' decisions and their report (``make data``)

The service reads only ``LIVE`` and ``versions/<LIVE>/``; ``LIVE`` is replaced atomically (a temporary
file renamed over it), so a worker never reads half a name. This module imports only the standard
library and ``moderation``: the service imports it too.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from moderation.errors import ModelError
from moderation.persistence import MANIFEST, read_manifest

__all__ = [
    "LIVE_FILE",
    "REGISTRY_ENV",
    "VERSIONS_DIR",
    "Registry",
    "RegistryError",
    "check_version_name",
    "live_version_dir",
    "read_live",
    "registry_dir",
    "took_effect",
]

REGISTRY_ENV = "MODERATION_REGISTRY"
LIVE_FILE = "LIVE"
VERSIONS_DIR = "versions"
HISTORY_FILE = "history.jsonl"
_REPO = Path(__file__).resolve().parent.parent


class RegistryError(RuntimeError):
    """A registry operation that cannot be done, and what to do instead."""


def registry_dir(path: str | os.PathLike | None = None) -> Path:
    """The registry folder: ``path``, else ``$MODERATION_REGISTRY``, else ``<repo>/registry``."""
    if path:
        return Path(path).expanduser()
    env = os.environ.get(REGISTRY_ENV)
    return Path(env).expanduser() if env else _REPO / "registry"


def check_version_name(version: str) -> str:
    """``version`` when it can name a folder of ``versions/``; a RegistryError otherwise (a path that
    would leave the registry: "../x", "/abs", "a/b", or a hidden name)."""
    if (not version or "/" in version or "\\" in version or version.startswith(".")
            or Path(version).is_absolute() or version.strip() != version):
        raise RegistryError(f"not a version name: {version!r} (a version is a folder name in versions/)")
    return version


def read_live(root: Path) -> str | None:
    """The live version named in ``root/LIVE``, or None when there is none yet."""
    try:
        name = (Path(root) / LIVE_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name or None


def live_version_dir(root: Path) -> Path | None:
    """The live version's model directory, or None when the registry has no live version."""
    name = read_live(root)
    return Path(root) / VERSIONS_DIR / check_version_name(name) if name else None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _user() -> str:
    try:
        return os.environ.get("MODERATION_USER") or getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def _append_durably(path: Path, line: str) -> None:
    """Append ``line`` to ``path`` and fsync it; on failure, cut the file back to where it was (best effort), so
    that a disk that fills mid-write leaves no torn line behind."""
    data = line.encode("utf-8")
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        try:
            while data:
                data = data[os.write(fd, data):]
            os.fsync(fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
            raise
    finally:
        os.close(fd)
    if created:
        _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    """Make a new directory entry durable, where the platform allows it (the file's own fsync is the rest)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def took_effect(events: list[dict], live: str | None) -> list[bool]:
    """Whether each history event's change of LIVE happened, given what LIVE names now.

    A change's history line is written (and synced) before LIVE is replaced, so a failure between the two
    (a disk that fills, a crash) leaves a line whose change never happened: LIVE still names the line's
    ``from``, and so does the ``from`` of the change after it, if any. Such a line is read as a change that
    did not take effect, which rollback, the candidate and the service's fallback leave out. A missing LIVE
    is no such evidence (it may have been deleted since): a line is then taken to have taken effect.
    """
    out = []
    for i, event in enumerate(events):
        after = events[i + 1].get("from") if i + 1 < len(events) else live
        out.append(after is None or after != event.get("from") or after == event.get("to"))
    return out


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that a reader sees the old or the new file, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class Registry:
    """One registry folder."""

    root: Path

    @classmethod
    def open(cls, path: str | os.PathLike | None = None) -> Registry:
        return cls(registry_dir(path))

    @property
    def versions_dir(self) -> Path:
        return self.root / VERSIONS_DIR

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def version_dir(self, version: str) -> Path:
        return self.versions_dir / check_version_name(version)

    # Reading -----------------------------------------------------------------------------------
    def live(self) -> str | None:
        return read_live(self.root)

    def versions(self) -> list[str]:
        """Every version with a manifest, oldest first (by training time, then name)."""
        if not self.versions_dir.is_dir():
            return []
        found = []
        for path in self.versions_dir.iterdir():
            if not path.name.startswith(".") and (path / MANIFEST).is_file():
                manifest = _manifest_or_empty(path)
                found.append((str(manifest.get("trained_at") or manifest.get("created") or ""), path.name))
        return [name for _, name in sorted(found)]

    def history(self) -> list[dict]:
        path = self.root / HISTORY_FILE
        if not path.is_file():
            return []
        events = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except ValueError as exc:
                raise RegistryError(f"{path} line {number} is not a JSON record ({exc}): restore that line from a "
                                    "backup, or delete it if it is a torn last write") from None
            if not isinstance(event, dict) or not isinstance(event.get("action"), str):
                raise RegistryError(f"{path} line {number} is not a registry event (an object with an action)")
            events.append(event)
        return events

    def changes(self) -> list[dict]:
        """The history's events whose change of LIVE took effect (:func:`took_effect`)."""
        events = self.history()
        return [event for event, done in zip(events, took_effect(events, self.live())) if done]

    def lineage(self) -> list[str]:
        """The versions LIVE has pointed at, as a stack: promotions push, rollbacks pop."""
        return _lineage(self.changes())

    def candidate(self) -> str | None:
        """The newest version that has never been live: what `make evaluate` and `make promote` act on."""
        ever_live = {e.get("to") for e in self.changes()} | {self.live()}
        fresh = [v for v in self.versions() if v not in ever_live]
        return fresh[-1] if fresh else None

    def check_live_not_lost(self) -> None:
        """A RegistryError saying what happened and how to restore it when LIVE is missing but the history
        names a live version: the registry is not empty, and putting a first live version in would be wrong."""
        if self.live():
            return
        changes = self.changes()
        stack = _lineage(changes)
        if not stack:
            return
        lost, event = stack[-1], changes[-1]
        back = (f"; then `make rollback` if you meant to go back to {stack[-2]}, the version live before it"
                if len(stack) > 1 else "")
        raise RegistryError(
            f"{self.root / LIVE_FILE} is missing or empty, but {self.root / HISTORY_FILE} says {lost} is live "
            f"({event['action']} by {event.get('user')} at {event.get('time')}): LIVE was deleted or lost. Nothing "
            f"was changed (the shipped default model is not put back in its place). Restore it by writing {lost} "
            f"back into LIVE (echo {lost} > {self.root / LIVE_FILE}){back}")

    # Changing ----------------------------------------------------------------------------------
    def init(self, model_dir: Path, user: str | None = None) -> str | None:
        """Copy ``model_dir`` in as the first live version when the registry has none; return it.

        A registry whose LIVE is missing while its history names a live version is not empty: that is a
        RegistryError (:meth:`check_live_not_lost`), never a silent return to ``model_dir``.
        """
        if self.live():
            return None
        self.check_live_not_lost()
        version = _model_version(model_dir)
        target = self.version_dir(version)
        if not target.exists():
            shutil.copytree(model_dir, target)
        self._verify(version)
        self._set_live(version, "init", user, f"first live version, copied from {model_dir}", previous=None)
        return version

    def add(self, model_dir: Path) -> str:
        """Copy a trained model directory in as a (not live) version; return its name."""
        version = _model_version(model_dir)
        target = self.version_dir(version)
        if target.exists():
            raise RegistryError(f"version {version} is already in {self.versions_dir}")
        shutil.copytree(model_dir, target)
        return version

    def set_live(self, version: str, action: str, user: str | None = None, reason: str = "",
                 detail: dict | None = None) -> dict:
        """Verify ``version`` loads (hashes and types), then point LIVE at it and log the change."""
        if version not in self.versions():
            raise RegistryError(f"no version {version!r} in {self.versions_dir}")
        self._verify(version)
        return self._set_live(version, action, user, reason, self.live(), detail)

    def rollback(self, user: str | None = None, reason: str = "") -> dict:
        """Point LIVE back at the version that was live before the current one."""
        self.check_live_not_lost()
        stack = self.lineage()
        if len(stack) < 2:
            live = self.live()
            if live and live not in self.versions():  # LIVE edited by hand, or its folder removed
                raise RegistryError(f"nothing to roll back to: {self.root / LIVE_FILE} names {live}, which is not a "
                                    f"version in {self.versions_dir}, and no version was live before it: make one "
                                    "live with `make promote` (FORCE=1 REASON=...) or restore that folder")
            raise RegistryError(f"nothing to roll back to: no version was live before {live}" if live else
                                "nothing to roll back to: no version is live yet")
        live = self.live()
        if live != stack[-1]:  # LIVE edited by hand: "the version before it" is not known, and stack[-2] is two back
            raise RegistryError(f"{self.root / LIVE_FILE} names {live}, but the history's last live version is "
                                f"{stack[-1]} (LIVE edited by hand?): nothing rolled back; write {stack[-1]} back "
                                "into LIVE, or make a version live with `make promote` (FORCE=1 REASON=...)")
        previous = stack[-2]
        self._verify(previous)
        return self._set_live(previous, "rollback", user, reason or "rollback", stack[-1])

    def load_version(self, version: str):
        """``version`` loaded as a worker serves it (a :class:`moderation.scorer.Scorer`): hashes and types
        checked, a comment scored, and the model the one its folder is named after (a renamed copy
        would never be the version LIVE names); a ModelError (or RegistryError for a bad name) otherwise."""
        from moderation.scorer import Scorer

        scorer = Scorer.load(self.version_dir(version)).self_check()
        if scorer.version != version:
            raise ModelError(f"{self.version_dir(version)} holds model {scorer.version} (not {version}): a version's "
                             "folder must be named after its model (a renamed copy?); workers would refuse it")
        return scorer

    def _verify(self, version: str) -> None:
        try:
            self.load_version(version)
        except ModelError as exc:
            raise RegistryError(f"version {version} fails its checks and cannot go live: {exc}") from exc

    def _set_live(self, version: str, action: str, user: str | None, reason: str, previous: str | None,
                  detail: dict | None = None) -> dict:
        event = {"time": _now(), "action": action, "user": user or _user(), "from": previous, "to": version,
                 "reason": reason}
        if detail:
            event["detail"] = detail
        # The history line first, on disk: a LIVE change is never without its record (rollback needs it). Should
        # LIVE then fail to be written, the line stays and is read as a change that never took effect.
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            _append_durably(self.root / HISTORY_FILE, json.dumps(event, sort_keys=True) + "\n")
        except OSError as exc:
            raise RegistryError(f"could not record the change in {self.root / HISTORY_FILE} ({exc}): LIVE was not "
                                f"changed, live is still {previous or 'none'}") from exc
        try:
            write_atomic(self.root / LIVE_FILE, version + "\n")
        except OSError as exc:
            raise RegistryError(f"could not write {self.root / LIVE_FILE} ({exc}): live is still {previous or 'none'}; "
                                f"the history's line for this {action} is read as not applied") from exc
        return event


def _lineage(changes: list[dict]) -> list[str]:
    stack: list[str] = []
    for event in changes:
        if event["action"] == "rollback":
            if stack:
                stack.pop()
        else:
            stack.append(event["to"])
    return stack


def _model_version(model_dir: Path) -> str:
    """The ``model_version`` a model directory's manifest names, checked as a version name."""
    version = read_manifest(model_dir).get("model_version")
    if not isinstance(version, str) or not version:
        raise RegistryError(f"{Path(model_dir) / MANIFEST} names no model_version: not a trained model "
                            "(`make train` writes one)")
    return check_version_name(version)


def _manifest_or_empty(path: Path) -> dict:
    try:
        return read_manifest(path)
    except ModelError:
        return {}
