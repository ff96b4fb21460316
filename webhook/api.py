"""The native JSON API under /v1/: moderate a comment, a batch or a thread; articles; stored verdicts.

Every request is signed (see signing.py). Views parse, call the service and render.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, request

from . import db
from .errors import InvalidInput, NotFound
from .inputs import check, check_id, parse_json, raw_body, require_json, scrub
from .service import (
    DEFAULT_SITE,
    CommentIn,
    database_unavailable,
    moderate,
    service,
    verdict_json,
)
from .signing import verify_native

bp = Blueprint("api", __name__, url_prefix="/v1")


@bp.before_request
def _verify_signature():
    svc = service()
    verify_native(request.headers, raw_body(), svc.secrets, svc.signature_window)


def _body(schema_name: str) -> dict:
    require_json()
    data = parse_json(raw_body(), scrub_strings=False)
    check(current_app.config["REQUEST_VALIDATORS"][schema_name], data)
    return scrub(data)


def _comment(item: dict, article_id: str | None = None) -> CommentIn:
    return CommentIn(item["id"], item["text"], item.get("article_id", article_id), item.get("parent_id"),
                     item.get("author_id"), item.get("revision"))


def _unique_ids(items: list[dict]) -> None:
    seen = {}
    for i, item in enumerate(items):
        if item["id"] in seen:
            raise InvalidInput(f"comments[{i}].id: repeats comments[{seen[item['id']]}].id; send each comment once",
                               field=f"comments[{i}].id")
        seen[item["id"]] = i


@bp.post("/comments")
def moderate_comment():
    body = _body("Comment")
    [verdict] = moderate(body.get("site_id", DEFAULT_SITE), [_comment(body)], source="api")
    return jsonify(verdict)


@bp.post("/comments/batch")
def moderate_batch():
    body = _body("Batch")
    _unique_ids(body["comments"])
    verdicts = moderate(body.get("site_id", DEFAULT_SITE), [_comment(c) for c in body["comments"]], source="api")
    return jsonify({"verdicts": verdicts})


@bp.post("/threads")
def moderate_thread():
    body = _body("Thread")
    _unique_ids(body["comments"])
    site_id, article = body.get("site_id", DEFAULT_SITE), body["article"]
    if "title" in article or "body" in article or article.get("url"):  # a URL alone is kept too, text untouched
        _store_article(site_id, article)
    comments = [_comment(c, article["id"]) for c in body["comments"]]
    context = {c.comment_id: c.text for c in comments}
    return jsonify({"verdicts": moderate(site_id, comments, source="api", context=context)})


@bp.post("/articles")
def register_article():
    body = _body("Article")
    row = _store_article(body.get("site_id", DEFAULT_SITE), body)
    return jsonify({"site_id": row["site_id"], "id": row["article_id"], "title": row["title"], "url": row["url"],
                    "updated_at": row["updated_at"].isoformat(timespec="milliseconds") + "Z"})


def _store_article(site_id: str, article: dict) -> dict:
    try:
        with db.transaction(service().engine) as conn:
            row = db.upsert_article(conn, site_id, article["id"], article.get("title"), article.get("body"),
                                    article.get("url"), source="api")
            if ("title" in article or "body" in article) and not (row["title"].strip() or row["body"].strip()):
                # The text stance is read against would be blank (what was sent, with what is kept of the
                # stored one): the comments under it would lose their stance. Refused; the transaction undone.
                raise InvalidInput("body: an article needs a title or a body, and with this request both would be "
                                   "blank; to keep the stored text while changing the URL, leave both out",
                                   field="body")
            db.insert_audit(conn, "article", site_id, article["id"], {"text_sha256": row["text_sha256"]})
    except sa.exc.SQLAlchemyError as exc:
        raise database_unavailable(exc) from exc
    return row


@bp.get("/verdicts/<path:comment_id>")
def read_verdict(comment_id: str):
    site_id = check_id("site_id", request.args.get("site_id", DEFAULT_SITE))
    comment_id = check_id("comment_id", comment_id)
    version = request.args.get("version")
    if version is not None and not (version.isascii() and version.isdigit() and 0 < int(version) < 2**31):
        raise InvalidInput("version: must be a positive whole number", field="version")
    try:
        with db.connect(service().engine) as conn:
            row = db.find_verdict(conn, site_id, comment_id, int(version) if version else None)
    except sa.exc.SQLAlchemyError as exc:
        raise database_unavailable(exc) from exc
    if row is None:
        raise NotFound(f"no verdict is stored for comment {comment_id!r} of site {site_id!r}"
                       + (f" at version {version}" if version else ""), field="comment_id")
    return jsonify(verdict_json(row))
