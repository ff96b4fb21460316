"""The per-worker article cache is bounded (``webhook.service.MAX_ARTICLES``, least recently used
evicted), and a comment under an evicted article still gets its stance: the article is registered
again from the database."""

import uuid

import pytest

from webhook import service

from .webhook_helpers import signed_post

pytest_plugins = ["tests.webhook_fixtures"]

BOUND = 3
COMMENT = "Great decision, my kids can finally cycle to school safely."


@pytest.fixture
def small_cache(monkeypatch):
    monkeypatch.setattr(service, "MAX_ARTICLES", BOUND)


@pytest.fixture
def articles(client):
    """Six stored articles with ids of this test's own (the model, and its cache, are shared by the session)."""
    prefix = f"art-{uuid.uuid4().hex[:8]}-"
    ids = [f"{prefix}{k}" for k in range(6)]
    for k, article_id in enumerate(ids):
        answer = signed_post(client, "/v1/articles", {
            "id": article_id, "title": f"Council approves cycle lanes on street number {k}",
            "body": f"The council voted on Tuesday to build protected cycle lanes on street {k}, removing "
                    "parking spaces. Supporters say the lanes will make cycling to school safe."})
        assert answer.status_code == 200
    return prefix, ids


def _registered(model, prefix: str) -> set[str]:
    return {key for key in model._articles if f"\x1f{prefix}" in key}


def _comment(client, comment_id: str, article_id: str) -> dict:
    response = signed_post(client, "/v1/comments", {"id": comment_id, "text": COMMENT, "article_id": article_id})
    assert response.status_code == 200
    return response.get_json()


def test_a_worker_keeps_at_most_the_bound_of_articles(small_cache, client, model, articles):
    prefix, ids = articles
    for k, article_id in enumerate(ids):
        assert _comment(client, f"c{k}", article_id)["stance"] is not None
        assert len(_registered(model, prefix)) == min(k + 1, BOUND)
    # The least recently used went first: the last BOUND articles are the ones kept.
    assert {key.split("\x1f")[1] for key in _registered(model, prefix)} == set(ids[-BOUND:])


def test_a_comment_under_an_evicted_article_still_gets_its_stance(small_cache, client, model, articles):
    prefix, ids = articles
    for k, article_id in enumerate(ids):
        _comment(client, f"c{k}", article_id)
    assert not any(f"\x1f{ids[0]}\x1f" in key for key in model._articles)  # evicted
    verdict = _comment(client, "late", ids[0])
    assert verdict["stance"] in ("favor", "against", "neutral", "unrelated")
    assert abs(sum(verdict["stance_scores"].values()) - 1) < 0.01
    assert any(f"\x1f{ids[0]}\x1f" in key for key in model._articles)  # registered again
    assert len(_registered(model, prefix)) == BOUND


def test_a_recently_used_article_is_kept(small_cache, client, model, articles):
    prefix, ids = articles
    _comment(client, "a0", ids[0])
    for k, article_id in enumerate(ids[1:BOUND + 1], start=1):
        _comment(client, f"c{k}", ids[0] if k == BOUND else article_id)  # ids[0] used again, ids[BOUND] not yet
    _comment(client, "last", ids[BOUND])  # evicts the least recently used: ids[1], not ids[0]
    kept = {key.split("\x1f")[1] for key in _registered(model, prefix)}
    assert ids[0] in kept and ids[1] not in kept and len(kept) == BOUND


def test_a_batch_with_more_articles_than_the_bound_gets_every_stance(small_cache, client, model, articles):
    prefix, ids = articles
    comments = [{"id": f"b{k}", "text": COMMENT, "article_id": article_id} for k, article_id in enumerate(ids)]
    response = signed_post(client, "/v1/comments/batch", {"comments": comments})
    assert response.status_code == 200
    body = response.get_json()
    verdicts = body["verdicts"] if isinstance(body, dict) else body
    assert len(verdicts) == len(ids) and all(v["stance"] is not None for v in verdicts)
    # Kept until the next request, which trims the cache to the bound.
    _comment(client, "next", ids[0])
    assert len(_registered(model, prefix)) == BOUND


def test_a_new_model_starts_with_an_empty_cache(small_cache, app, client, model, articles):
    prefix, ids = articles
    for k, article_id in enumerate(ids[:BOUND]):
        _comment(client, f"c{k}", article_id)
    svc = app.extensions["moderation"]
    assert len(svc._article_lru) == BOUND
    svc.scorer = type(model)(model.violation, model.stance, model.manifest, model.directory)  # as a model swap does
    assert _comment(client, "after-swap", ids[BOUND])["stance"] is not None
    assert list(svc._article_lru) == [key for key in svc.scorer._articles if f"\x1f{prefix}" in key]
    assert len(svc._article_lru) == 1
