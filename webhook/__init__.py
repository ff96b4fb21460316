"""The moderation webhook: policy-grounded verdicts for a CMS, Coral Talk and Perspective clients.

``create_app`` builds the Flask application; nothing happens at import time. Under gunicorn
(``make serve``) each worker calls it once and so loads and checks the model once.
"""

from __future__ import annotations

import logging
import os
import time

import click
from flask import Flask, current_app, g, request
from flask.cli import with_appcontext
from werkzeug.middleware.proxy_fix import ProxyFix

import review

from . import api, config, coral, db, editors, errors, ops, perspective
from .inputs import validator
from .openapi import document, request_schemas
from .service import Service

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def create_app(test_config: dict | None = None) -> Flask:
    """Build the service: settings, model, policies, database (migrated), blueprints, metrics."""
    app = Flask(__name__, instance_relative_config=True)
    config.load_config(app, test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    max_batch = int(app.config["MAX_BATCH"])
    app.config["OPENAPI"] = document(max_batch)
    app.config["REQUEST_VALIDATORS"] = {name: validator(s) for name, s in request_schemas(max_batch).items()}
    app.extensions["moderation"] = Service.start(app.config, app.instance_path)
    errors.register(app, {perspective.bp.url_prefix: perspective.unexpected_error})
    for blueprint in (api.bp, coral.bp, perspective.bp, ops.bp):
        app.register_blueprint(blueprint)
    app.before_request(_start_timer)
    app.before_request(lambda: _service().follow_registry())  # a promoted model, swapped in between requests
    app.after_request(_count_request)
    app.cli.add_command(migrate_command)
    review.init_app(app)  # the moderators' pages, under /review
    app.extensions["review"].register_blueprint(editors.bp)  # editors' charts, under /review/editors
    hops = int(app.config["PROXY_HOPS"])
    if hops > 0:  # the client's address and scheme as the proxies saw them (sign-in throttling, secure cookies)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    log.info("moderation service ready: model %s", app.extensions["moderation"].scorer.version)
    return app


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _start_timer() -> None:
    g.started = time.perf_counter()


def _count_request(response):
    started = g.get("started")
    if started is not None:
        route = request.url_rule.rule if request.url_rule else "(unmatched)"
        # The client names the method: any other than HTTP's own would make a new series (and memory) each.
        method = request.method if request.method in _METHODS else "OTHER"
        _service().metrics.request(route, method, response.status_code, time.perf_counter() - started)
    return response


def _service() -> Service:
    return current_app.extensions["moderation"]


@click.command("migrate")
@with_appcontext
def migrate_command() -> None:
    """Create the database tables or bring them up to this version's schema."""
    found = db.migrate(_service().engine)
    click.echo(f"database at schema version {db.SCHEMA_VERSION} (was {found or 'empty'})")
