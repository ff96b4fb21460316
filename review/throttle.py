"""Failed sign-ins: each is audited, and too many in a while refuse more for a while.

A failed sign-in is an audit line (``auth.failed``: the user name tried, and the client's address in its
detail; never the password). Before a password is checked, the failures of the last :data:`WINDOW` are
counted: :data:`PER_NAME` for the name tried from the client's address (so that nobody elsewhere can lock a
moderator out), or :data:`PER_ADDRESS` from the client's address, refuse the
attempt, unchecked and not logged, until the oldest of them is :data:`WINDOW` old. An IPv6 address counts as
its /64 network, which one subscriber is given whole (else each of its addresses would have its own limits).
:data:`PER_ACCOUNT` failures for one name from any addresses refuse that name everywhere the same way: a
guesser with many addresses gets that many guesses a window, and the cost is that a user whose name is under
such an attack waits out the window too. The count is read from the database, so it holds across gunicorn
workers and restarts. With sync workers, attempts checked at the same moment can pass the limit by at most one
per worker.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta

from webhook import db

__all__ = ["EVENT", "PER_ACCOUNT", "PER_ADDRESS", "PER_NAME", "WINDOW", "record_failure", "refused_until"]

EVENT = "auth.failed"
WINDOW = timedelta(minutes=15)
PER_NAME = 5
# Higher: colleagues behind one office address mistype too. Behind a reverse proxy every client has the
# proxy's address unless MODERATION_PROXY_HOPS says how many proxies to trust (werkzeug's ProxyFix).
PER_ADDRESS = 20
# From any addresses: a review made 300 guesses at one name in a window from 60 IPv6 addresses.
PER_ACCOUNT = 30


def network(address: str) -> str:
    """What an address is counted as: itself, or for IPv6 its /64 network."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    return str(ipaddress.ip_network(f"{ip}/64", strict=False)) if ip.version == 6 else str(ip)


def refused_until(engine, username: str, address: str) -> datetime | None:
    """Until when sign-ins as ``username`` or from ``address`` are refused; None when they may be tried now."""
    with db.connect(engine) as conn:
        failures = db.audit_since(conn, EVENT, db.now() - WINDOW)
    here = network(address)
    from_here = [f for f in failures if network(str(f["detail"].get("address"))) == here]
    by_name = [f["at"] for f in from_here if f["subject"] == username]
    by_address = [f["at"] for f in from_here]
    by_account = [f["at"] for f in failures if f["subject"] == username]
    ends = [times[-limit] + WINDOW for times, limit in ((by_name, PER_NAME), (by_address, PER_ADDRESS),
                                                         (by_account, PER_ACCOUNT)) if len(times) >= limit]
    return max(ends, default=None)


def record_failure(engine, username: str, address: str) -> None:
    """Audit a failed sign-in as ``username`` from ``address``."""
    with db.transaction(engine) as conn:
        db.insert_audit(conn, EVENT, None, username, {"address": address})
