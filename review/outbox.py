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
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from webhook import db
from webhook.config import as_list
from webhook.signing import native_headers

__all__ = ["Deliverer", "deliver_command", "enqueue"]

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


@dataclass
class Deliverer:
    """Sends due callbacks; one per worker, with an optional background thread."""

    engine: sa.Engine
    url: str
    secret: str
    max_attempts: int = 12
    backoff_s: float = 5.0
    timeout_s: float = 5.0
    _wake: threading.Event = field(default_factory=threading.Event, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @classmethod
    def from_config(cls, config, service) -> Deliverer:
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
                with db.transaction(self.engine) as conn:
                    taken = db.claim_callback(conn, row["id"], row["next_attempt_at"],
                                              db.now() + timedelta(seconds=_LEASE_S))
                if taken:
                    done["delivered" if self._send(row) else "failed"] += 1
            if done["delivered"] == delivered:  # else one delivered may have freed the next about its subject
                return done
        return done

    def _send(self, row: dict) -> bool:
        payload = {**row["payload"], "sequence": row["id"]}  # the row id: the CMS can drop a stale decision
        body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "moderation-review",
                   EVENT_HEADER: row["event"], DELIVERY_HEADER: row["delivery_id"],
                   **native_headers(self.secret, body)}
        request = urllib.request.Request(self.url, data=body, method="POST", headers=headers)
        status, error = None, ""
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"the CMS answered {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            error = f"could not reach the CMS: {getattr(exc, 'reason', exc)}"
        with db.transaction(self.engine) as conn:
            if status is not None and 200 <= status < 300:
                db.callback_delivered(conn, row["id"], status)
                return True
            attempts = row["attempts"] + 1
            retry_at = (db.now() + timedelta(seconds=self.backoff(attempts))) if attempts < self.max_attempts else None
            db.callback_failed(conn, row["id"], status, error, retry_at)
        log.warning("callback %s (%s) failed, attempt %d: %s", row["delivery_id"], row["event"], attempts, error)
        return False

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
