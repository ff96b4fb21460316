"""moderation: self-hosted, policy-grounded moderation for news-site reader comments.

The public API, what the service and scripts use::

    from moderation import Scorer, Article, load_policy

    scorer = Scorer.load()                  # the shipped default model, or Scorer.load("path/to/model")
    score = scorer.score("text")            # one comment; scorer.score_batch(texts, article_ids) for many
    evidence = scorer.explain("text", score=score)
    verdict = load_policy("data/policy.toml").decide(score, evidence)

Names are imported on first use, so ``import moderation`` stays cheap.
"""

from importlib import import_module

__all__ = ["Article", "AuthorState", "Evidence", "Policy", "Score", "Scorer", "Verdict", "default_model_dir",
           "load_policy", "load_scorer"]

_HOME = {"Article": "scorer", "Evidence": "scorer", "Score": "scorer", "Scorer": "scorer",
         "default_model_dir": "scorer", "load_scorer": "scorer", "AuthorState": "policy", "Policy": "policy",
         "Verdict": "policy", "load_policy": "policy"}


def __getattr__(name: str):
    if name in _HOME:
        return getattr(import_module(f".{_HOME[name]}", __name__), name)
    raise AttributeError(f"module 'moderation' has no attribute {name!r}")
