"""Callbacks to the CMS from a durable outbox: signed, retried with exponential back-off.

A decision and its callback are written in one transaction, so a callback is never lost: a
sender that crashes, or a service that restarts, leaves it pending in the database and the next
sender picks it up. Senders take a callback by pushing its next attempt past a lease, so two
workers' threads (or a thread and the ``deliver-outbox`` command) never send one at the same time.
Each callback carries a ``delivery_id``: the CMS should ignore one it has already seen, since a
callback whose answer was lost is sent again. Callbacks about one comment (or one author) are sent in
the order they were made: one waits while an earlier one about its subject is pending (a given-up one
no longer holds it back). Each also carries a ``sequence`` (its outbox row id, increasing) so that the
CMS can ignore a decision older than one it has applied, as an admin's resending of a given-up one is.

Only a 2xx answer delivers a callback. A redirect is not followed (a failed attempt, retried); a 4xx other
than 408 or 429 gives it up at once. A send is cut off three quarters of its lease after it began, however
slowly the CMS trickles its answer, and its answer is recorded only while the sender still holds the lease,
so a send that outlived it never overwrites what the sender that took the callback over recorded.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from webhook import db
from webhook.config import as_list
from webhook.signing import native_headers

__all__ = ["Deliverer", "answer_error", "deliver_command", "enqueue", "retried", "retry_span"]

log = logging.getLogger(__name__)

EVENT_HEADER = "X-Moderation-Event"
DELIVERY_HEADER = "X-Moderation-Delivery"
_MAX_BACKOFF_S = 3600
_LEASE_S = 60


def enqueue(conn, site_id: str, event_name: str, payload: dict) -> str | None:
    """Queue a callback in the caller's transaction when a callback URL is set; return its delivery id."""
    if not current_app.config.get("CALLBACK_URL"):
        return None
    delivery_id = uuid.uuid4().hex
    body = {"delivery_id": delivery_id, "event": event_name, "site_id": site_id, **payload}
    db.enqueue_callback(conn, delivery_id, site_id, event_name, body)
    current_app.extensions["outbox"].wake()
    return delivery_id


def retry_span(max_attempts: int, backoff_s: float) -> float:
    """Seconds from a callback's first attempt to its last, when every attempt fails (then it is given up)."""
    return sum(min(backoff_s * 2 ** (n - 1), _MAX_BACKOFF_S) for n in range(1, max_attempts))


def answer_error(status: int, location: str | None = None) -> str:
    """The error recorded for a non-2xx answer from the CMS.

    A redirect is not followed: urllib would resend the POST as a GET without its body, and its signature
    headers to whatever host the Location names. It is a failed attempt, retried (the CMS may be moving).
    """
    if 300 <= status < 400:
        return (f"the CMS answered {status}, a redirect to {(location or '(no Location)')[:500]}, which is not "
                "followed: set MODERATION_CALLBACK_URL to the address that answers")
    if not retried(status):
        return f"the CMS answered {status}: given up at once (a 4xx other than 408 or 429 is not retried)"
    return f"the CMS answered {status}"


def retried(status: int | None) -> bool:
    """Whether a failed attempt with this answer (None: none) is tried again. A 4xx other than 408 (timeout) or
    429 (too many requests) says the CMS refuses this callback: sent again, it would be refused again."""
    return status is None or not (400 <= status < 500 and status not in (408, 429))


def _send_deadline() -> float:
    """Seconds a send may take in all: three quarters of its lease, so it ends before another sender may take it."""
    return _LEASE_S * 0.75


def _late() -> str:
    return f"the CMS did not answer within {_send_deadline():g} s"


class _Watch:
    """The connections one send opens, so that a timer can cut them at the send's deadline (the timeout of
    each socket read alone would let a CMS that answers a byte at a time hold a send for ever)."""

    def __init__(self):
        self.connections: list = []
        self.cut_off = False

    def opening(self, connection_class):
        """What urllib calls to open a ``connection_class`` connection: one this watch can cut."""
        def open_connection(host, **kwargs):
            connection = connection_class(host, **kwargs)
            connect = connection.connect

            def connect_watched():
                connect()
                self.connections.append(connection)
                if self.cut_off:  # the deadline passed while it was connecting
                    _shut(connection)

            connection.connect = connect_watched
            return connection
        return open_connection

    def cut(self) -> None:
        self.cut_off = True
        for connection in self.connections:
            _shut(connection)


def _shut(connection) -> None:
    """Shut a connection's socket from any thread: a read waiting on it ends at once."""
    if connection.sock is not None:
        with contextlib.suppress(OSError):  # the plain socket's shutdown, for TLS too (it skips the TLS goodbye)
            socket.socket.shutdown(connection.sock, socket.SHUT_RDWR)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx


class _WatchedHTTP(urllib.request.HTTPHandler):
    def __init__(self, watch: _Watch):
        super().__init__()
        self.watch = watch

    def http_open(self, req):
        return self.do_open(self.watch.opening(http.client.HTTPConnection), req)


class _WatchedHTTPS(urllib.request.HTTPSHandler):
    def __init__(self, watch: _Watch):
        super().__init__()
        self.watch = watch

    def https_open(self, req):
        return self.do_open(self.watch.opening(http.client.HTTPSConnection), req, context=self._context)


def _opener(watch: _Watch) -> urllib.request.OpenerDirector:
    """urllib's opener (proxies from the environment included) without redirects, its connections watched."""
    return urllib.request.build_opener(_NoRedirects(), _WatchedHTTP(watch), _WatchedHTTPS(watch))


@dataclass
class Deliverer:
    """Sends due callbacks; one per worker, with an optional background thread."""

    engine: sa.Engine
    url: str
    secret: str
    max_attempts: int = 58  # with the default back-off, about 48 hours of retries: a CMS down for a night loses none
    backoff_s: float = 5.0
    timeout_s: float = 5.0
    _wake: threading.Event = field(default_factory=threading.Event, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @classmethod
    def from_config(cls, config, service) -> Deliverer:
        # load_config has refused a callback URL without a secret, so an empty key never signs a callback.
        secrets = as_list(config.get("CALLBACK_SECRET")) or as_list(config.get("SECRETS"))
        return cls(service.engine, str(config.get("CALLBACK_URL") or ""), secrets[0] if secrets else "",
                   int(config["CALLBACK_MAX_ATTEMPTS"]), float(config["CALLBACK_BACKOFF"]),
                   float(config["CALLBACK_TIMEOUT"]))

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt."""
        return min(self.backoff_s * 2 ** (attempts - 1), _MAX_BACKOFF_S)

    def deliver_due(self, limit: int = 50) -> dict[str, int]:
        """Send every callback that is due now (at most ``limit``); return how many were delivered and failed."""
        done = {"delivered": 0, "failed": 0}
        if not self.url:
            return done
        while sum(done.values()) < limit:
            delivered = done["delivered"]
            with db.connect(self.engine) as conn:
                due = db.due_callbacks(conn, db.now(), limit - sum(done.values()))
            for row in due:
                lease_until = db.now() + timedelta(seconds=_LEASE_S)
                with db.transaction(self.engine) as conn:
                    taken = db.claim_callback(conn, row["id"], row["next_attempt_at"], lease_until)
                if taken:
                    done["delivered" if self._send(row, lease_until) else "failed"] += 1
            if done["delivered"] == delivered:  # else one delivered may have freed the next about its subject
                return done
        return done

    def _send(self, row: dict, lease_until: datetime) -> bool:
        """Send one taken callback and record the answer, if this sender still holds its lease; True if delivered."""
        status, error = self._post(row)
        delivered = status is not None and 200 <= status < 300
        attempts = row["attempts"] + 1
        with db.transaction(self.engine) as conn:
            if delivered:
                recorded = db.callback_delivered(conn, row["id"], status, lease_until)
            else:
                again = retried(status) and attempts < self.max_attempts
                retry_at = db.now() + timedelta(seconds=self.backoff(attempts)) if again else None
                recorded = db.callback_failed(conn, row["id"], status, error, retry_at, lease_until)
        if not recorded:  # another sender took it after the lease ran out: its answer is the one recorded
            log.warning("callback %s (%s): the lease ran out before the CMS answered (%s); another sender has it, "
                        "so this answer is not recorded", row["delivery_id"], row["event"], status or error)
            return False
        if not delivered:
            log.warning("callback %s (%s) failed, attempt %d: %s", row["delivery_id"], row["event"], attempts, error)
        return delivered

    def _post(self, row: dict) -> tuple[int | None, str]:
        """POST one callback; the CMS's status (None without an answer) and what went wrong ("" when nothing).

        Any exception is a failed attempt: a malformed answer (http.client's BadStatusLine), a URL urllib
        refuses (ValueError) or anything else must not end the sender, which would leave the callback unsent.
        """
        watch = _Watch()
        timer = threading.Timer(_send_deadline(), watch.cut)
        timer.daemon = True
        timer.start()
        try:
            body = json.dumps({**row["payload"], "sequence": row["id"]},  # the row id: the CMS can drop a stale one
                              sort_keys=True, separators=(",", ":")).encode()
            headers = {"Content-Type": "application/json", "User-Agent": "moderation-review",
                       EVENT_HEADER: row["event"], DELIVERY_HEADER: row["delivery_id"],
                       **native_headers(self.secret, body)}
            request = urllib.request.Request(self.url, data=body, method="POST", headers=headers)
            with _opener(watch).open(request, timeout=self.timeout_s) as response:
                timer.cancel()
                if watch.cut_off:  # a cut mid-headers reads as their end: the answer looks whole but is not
                    return None, _late()
                return response.status, ""
        except urllib.error.HTTPError as exc:
            return exc.code, answer_error(exc.code, exc.headers.get("Location"))
        except Exception as exc:  # noqa: BLE001 - any failure is a failed attempt, never the end of the sender
            if watch.cut_off:
                return None, _late()
            if isinstance(exc, (urllib.error.URLError, OSError)):
                return None, f"could not reach the CMS: {getattr(exc, 'reason', exc)}"
            return None, f"the callback could not be sent: {type(exc).__name__}: {exc}"
        finally:
            timer.cancel()

    def wake(self) -> None:
        """Ask the thread to look for due callbacks now (a decision was just made)."""
        self._wake.set()

    def run(self, interval_s: float = 2.0) -> None:
        """Deliver until stopped, looking again every ``interval_s`` seconds or when woken."""
        while not self._stop.is_set():
            try:
                self.deliver_due()
            except sa.exc.SQLAlchemyError as exc:  # the database went away: keep trying, never die
                log.error("callback delivery: database error: %s", exc)
            except Exception:  # anything else, too: a sender that died would leave every callback unsent
                log.exception("callback delivery failed; trying again in %s s", interval_s)
            self._wake.wait(interval_s)
            self._wake.clear()

    def start_thread(self) -> None:
        """Deliver from a daemon thread of this process, when a callback URL is set."""
        if self.url and self._thread is None:
            self._thread = threading.Thread(target=self.run, name="moderation-callbacks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None


@click.command("deliver-outbox")
@click.option("--loop", is_flag=True, help="Keep delivering until interrupted.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between looks at the outbox (with --loop).")
@with_appcontext
def deliver_command(loop: bool, interval: float) -> None:
    """Send the CMS the callbacks that are due (decisions and author changes)."""
    deliverer: Deliverer = current_app.extensions["review"].extensions["outbox"]
    if not deliverer.url:
        raise click.ClickException("no callback URL: set MODERATION_CALLBACK_URL")
    if not loop:
        done = deliverer.deliver_due(limit=1000)
        click.echo(f"delivered {done['delivered']}, failed {done['failed']}")
        return
    click.echo(f"delivering callbacks to {deliverer.url} every {interval} s; Ctrl-C stops")
    try:
        deliverer.run(interval)
    except KeyboardInterrupt:
        time.sleep(0)
