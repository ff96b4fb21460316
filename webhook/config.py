"""The service's settings, declared once as a table of (name, default, help).

Each setting is read, in order, from these defaults, from ``config.py`` in the instance folder, then
from an environment variable named ``MODERATION_<NAME>``. ``docs/connecting.md`` lists the same
table and a test keeps the two in step.
"""

from __future__ import annotations

import difflib
import logging
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["SETTINGS", "Setting", "as_list", "as_mapping", "default_policy_file", "flag", "load_config", "where_set"]

ENV_PREFIX = "MODERATION"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Setting:
    """One configuration setting and what it is for."""

    name: str
    default: object
    help: str

    @property
    def env(self) -> str:
        return f"{ENV_PREFIX}_{self.name}"

    @property
    def default_text(self) -> str:
        """The default as docs/connecting.md shows it."""
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        return str(self.default) if self.default != "" else "(empty)"


SETTINGS = (
    Setting("DATABASE_URL", "",
            "SQLAlchemy URL of the database; empty means SQLite at instance/moderation.sqlite. "
            "PostgreSQL: postgresql+psycopg://user:password@host:5432/dbname"),
    Setting("DB_TIMEOUT", 10,
            "Seconds one database statement may wait (for a lock held elsewhere, a slow query, or on PostgreSQL a "
            "network that stopped delivering) before the request gets a 503; keep it under gunicorn's 30 s worker "
            "timeout. 0: no limit on PostgreSQL, SQLite's own 30 s wait for its write lock"),
    Setting("AUTO_MIGRATE", True,
            "Apply pending schema migrations when the service starts; when false, run "
            "`flask --app webhook migrate` yourself"),
    Setting("MODEL_DIR", "", "Model directory to load; empty means the shipped default model"),
    Setting("REGISTRY", "",
            "Model registry to follow (the registry/ folder of `make promote`): score with its LIVE version and pick up "
            "a promotion or rollback without a restart; empty means MODEL_DIR, never reloaded"),
    Setting("RELOAD_INTERVAL", 1.0, "Seconds between a worker's checks of the registry's LIVE file (one stat each)"),
    Setting("POLICY", "", "Policy TOML file for sites without their own; empty means data/policy.toml"),
    Setting("SITE_POLICIES", "",
            "Per-site policies as site_id=path pairs, comma-separated (site-a=/etc/a.toml,site-b=/etc/b.toml)"),
    Setting("SECRETS", "",
            "Comma-separated secrets for the native /v1 API signature; list the new one first while rotating"),
    Setting("CORAL_SECRETS", "",
            "Comma-separated signing secrets of Coral's external moderation phase and webhook endpoint"),
    Setting("PERSPECTIVE_KEYS", "", "Comma-separated API keys accepted by the Perspective-compatible endpoint"),
    Setting("SIGNATURE_WINDOW", 300, "Seconds a native request's timestamp may differ from the server clock"),
    Setting("MAX_BODY_BYTES", 2_000_000,
            "Largest request body accepted, in bytes (larger gets 413, or 400 in Perspective's error shape on its route)"),
    Setting("MAX_BATCH", 100, "Most comments in one /v1/comments/batch or /v1/threads request"),
    Setting("BIND", "127.0.0.1:8000", "Address gunicorn listens on (gunicorn only)"),
    Setting("PROXY_HOPS", 0,
            "Reverse proxies in front of the service whose X-Forwarded-For and -Proto headers are trusted (0: none)"),
    Setting("WORKERS", 2, "Number of gunicorn worker processes, each with its own model (gunicorn only)"),
    Setting("REVIEW_SECRET_KEY", "",
            "Key that signs the review queue's session cookies; empty means a random key kept in instance/review_secret_key"),
    Setting("REVIEW_COOKIE_SECURE", True,
            "Send the review session cookie over HTTPS only; set false only to try the queue over plain HTTP"),
    Setting("REVIEW_SESSION_HOURS", 12, "Hours a moderator stays signed in, counted from signing in however active they are"),
    Setting("REVIEW_REPORT_MARGIN", 0.1,
            "Published comments scoring within this much of a hold threshold are listed in the Reported queue"),
    Setting("CALLBACK_URL", "",
            "http:// or https:// URL that receives moderators' decisions as signed POSTs (the native signing scheme); "
            "empty means none are sent"),
    Setting("CALLBACK_SECRET", "",
            "Secret that signs callbacks; empty means the first of MODERATION_SECRETS (with neither, a callback URL "
            "stops the service from starting)"),
    Setting("CALLBACK_THREAD", True,
            "Deliver callbacks from a thread in each worker; when false, run `flask --app webhook deliver-outbox --loop`"),
    Setting("CALLBACK_MAX_ATTEMPTS", 58,
            "Attempts before a callback is given up (admins can resend it); with the default back-off the last comes "
            "about 48 hours after the first"),
    Setting("CALLBACK_BACKOFF", 5, "Seconds before the first retry of a failed callback, doubled on each retry up to an hour"),
    Setting("CALLBACK_TIMEOUT", 5,
            "Seconds each step of a callback may wait: connecting, and each read of the CMS's answer (not the whole "
            "answer: a send is cut off after 45 s in all)"),
)
"""Every setting the service reads."""


def default_policy_file() -> Path:
    """The example policy that ships with the repository."""
    return Path(__file__).resolve().parent.parent / "data" / "policy.toml"


def load_config(app, test_config: dict | None = None) -> None:
    """Fill ``app.config`` from defaults, then the instance file and environment (or ``test_config``)."""
    app.config.from_mapping({s.name: s.default for s in SETTINGS})
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env(ENV_PREFIX)
        # Flask reads environment values as JSON: a secret "1.50" would become 1.5 and "null" no secret
        # at all. A setting whose default is text is taken exactly as written.
        for setting in SETTINGS:
            if isinstance(setting.default, str) and setting.env in os.environ:
                app.config[setting.name] = os.environ[setting.env]
    else:
        app.config.from_mapping(test_config)
    if test_config is None:
        _warn_of_unknown_names(os.environ)
    for setting in SETTINGS:
        app.config[setting.name] = _yes_or_no(setting, _number(setting, app.config[setting.name]))
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_BODY_BYTES"])
    _check_callbacks(app.config)


# Variables of the same prefix that other commands read (training, retraining, the tests), not the service.
_OTHER_NAMES = frozenset("""DATASETS PROMOTE_TOLERANCE USER TEST_POSTGRES_URL REQUIRE_BROWSER REQUIRE_POSTGRES
    SCREENSHOTS FIXTURES CHROMIUM""".split())


def _warn_of_unknown_names(environ) -> None:
    """A warning for each MODERATION_ variable that names no setting: a misspelt one (MODERATION_CORAL_SECRET,
    MODERATION_DATABASE_URI) would otherwise leave its setting at its default without a word."""
    known = {s.name for s in SETTINGS}
    for name in sorted(environ):
        short = name.removeprefix(f"{ENV_PREFIX}_")
        if short == name or short in known or short in _OTHER_NAMES:
            continue
        close = difflib.get_close_matches(short, known, n=1)
        hint = f" (did you mean {ENV_PREFIX}_{close[0]}?)" if close else ""
        log.warning("%s is not a setting of the service and is ignored%s", name, hint)


def where_set(name: str) -> str:
    """Where a setting is set, as a refusal names it."""
    return f"{ENV_PREFIX}_{name} (or {name} in the instance folder's config.py)"


def _number(setting: Setting, value):
    """A numeric setting's value as a number (text from a config file read as one); a refusal that names the
    setting otherwise."""
    if type(setting.default) not in (int, float):
        return value
    where = where_set(setting.name)
    number = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        for kind in (int, float):
            try:
                number = kind(value.strip())
                break
            except ValueError:
                pass
    if number is None or not math.isfinite(number):
        raise RuntimeError(f"cannot start: {where} must be a number such as {setting.default}, got {value!r}")
    if number < 0:
        raise RuntimeError(f"cannot start: {where} must not be negative, got {value!r}")
    low, high = _RANGES.get(setting.name, (0, None))
    if number < low or (high is not None and number > high):
        allowed = f"from {low} to {high:,}" if high is not None else f"at least {low}"
        raise RuntimeError(f"cannot start: {where} must be {allowed}, got {value!r}")
    return number


# Settings whose 0 would switch what they bound off (every request refused as too large, every callback cut off
# at once, gunicorn without workers), or whose largest values overflow what reads them: (lowest, highest).
_RANGES = {
    "MAX_BODY_BYTES": (1, None), "MAX_BATCH": (1, None), "WORKERS": (1, None), "CALLBACK_MAX_ATTEMPTS": (1, None),
    "CALLBACK_TIMEOUT": (0.01, 3_600), "DB_TIMEOUT": (0, 86_400), "REVIEW_SESSION_HOURS": (0.01, 8_784),
    "SIGNATURE_WINDOW": (1, 86_400), "RELOAD_INTERVAL": (0, 86_400), "CALLBACK_BACKOFF": (0, 86_400),
}


_YES, _NO = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _yes_or_no(setting: Setting, value):
    """A yes/no setting's value as a bool; a refusal that names the setting for anything else (a typo such as
    "flase" read as yes would switch on what the operator meant to switch off)."""
    if not isinstance(setting.default, bool):
        return value
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if text == "":  # set but empty, as an unset variable: the default (an HTTPS-only cookie stays on)
        return setting.default
    if text in _YES or text in _NO:
        return text in _YES
    raise RuntimeError(f"cannot start: {where_set(setting.name)} must be true or false (or yes/no, on/off, 1/0), got {value!r}")


def _check_callbacks(config) -> None:
    """Refuse, at start, a callback URL that no callback could reach, or one with no secret to sign callbacks
    with (they would be signed with an empty key): found at the first decision instead, they would only fail."""
    url = str(config["CALLBACK_URL"] or "")
    if not url:
        return
    if not _http_url(url):
        shown = re.sub(r"//[^/@]*@", "//***@", url)  # a password in the URL is not written to the log
        raise RuntimeError(f"cannot start: {where_set('CALLBACK_URL')} must be an http:// or https:// URL with a host "
                           f"(and a port from 1 to 65535, if any), such as https://cms.example.com/moderation-callback; "
                           f"got {shown!r}")
    if not (as_list(config["CALLBACK_SECRET"]) or as_list(config["SECRETS"])):
        raise RuntimeError(f"cannot start: {ENV_PREFIX}_CALLBACK_URL is set but no secret signs callbacks: set "
                           f"{where_set('CALLBACK_SECRET')}, or {ENV_PREFIX}_SECRETS, whose first secret is then used")


def _http_url(url: str) -> bool:
    """Whether ``url`` is an http or https URL with a host and a valid port, without spaces or control
    characters (which http.client refuses)."""
    if re.search(r"[\x00-\x20\x7f]", url):
        return False
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # not a number, or over 65535
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and port != 0


def as_list(value) -> list[str]:
    """A setting given as a list or as a comma-separated string."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        # Flask parses environment values as JSON, so a numeric secret arrives as an int.
        value = str(value).split(",")
    return [str(v).strip() for v in value if str(v).strip()]


def flag(value) -> bool:
    """A yes/no setting given as a bool or as text (``_NO``'s words, any case, and empty are no). ``load_config``
    has already made each yes/no setting a bool, refusing other text."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", *_NO)
    return bool(value)


def as_mapping(value) -> dict[str, str]:
    """A setting given as a dict or as comma-separated ``key=value`` pairs."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    pairs = {}
    for item in as_list(value):
        key, sep, val = item.partition("=")
        if not sep or not key.strip() or not val.strip():
            raise ValueError(f"expected site_id=path, got {item!r}")
        pairs[key.strip()] = val.strip()
    return pairs
