"""Operations: /healthz, /readyz, /metrics and /openapi.json."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify

from . import db
from .metrics import CONTENT_TYPE_LATEST
from .service import service

log = logging.getLogger(__name__)

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    svc = service()
    answer = {"status": "ready", "model_version": svc.scorer.version, "database": "ok", "schema_version": None}
    try:
        with db.connect(svc.engine) as conn:
            db.ping(conn)
            answer["schema_version"] = db.schema_version(conn)
    except Exception as exc:  # noqa: BLE001 - any failure to reach the database means: not ready
        log.warning("readiness: database unreachable: %s", exc)
        answer.update(status="not ready", database=f"unreachable: {type(exc).__name__}")
        return jsonify(answer), 503
    if answer["schema_version"] != db.SCHEMA_VERSION:
        answer.update(status="not ready", database=f"schema at version {answer['schema_version']}, the service "
                      f"needs {db.SCHEMA_VERSION}: run `flask --app webhook migrate`")
        return jsonify(answer), 503
    return jsonify(answer)


@bp.get("/metrics")
def metrics():
    return current_app.response_class(service().metrics.render(), mimetype=None,
                                      headers={"Content-Type": CONTENT_TYPE_LATEST})


@bp.get("/openapi.json")
def openapi():
    return jsonify(current_app.config["OPENAPI"])
