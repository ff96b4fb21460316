"""The project's own news-comment corpus in ``data/corpus/`` (format: ``data/FORMAT.md``)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from moderation.labels import HEADS

__all__ = ["DATA_DIR", "TEST_PARTS", "corpus_hashes", "is_test_article", "load_corpus", "stance_frame", "violation_frame"]

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
TEST_SHARE = 5  # one article in five is in the fixed test split
# Parts held out whole, every article in the test split: written to measure one behaviour on text no
# model was trained on. `thrt` (threats made without "kill", beside innocent uses of the same words):
# trained on, it did not move the behaviour table's threats-in-other-words cases and lowered OLID
# macro-F1 from 0.752 to 0.748 and corpus test incitement F1 from 0.675 to 0.653. `idea` (insult words
# aimed at plans, laws and columns, beside the same words aimed at people): trained on (model
# 20261206-c86d127e), it left "This is a stupid plan." at 0.86 personal attack (0.84 before), moved
# "This decision is moronic." from 0.66 to 0.50, and ARC stance from 0.387 to 0.381.
# `dmnd` (short civil demands, "He should resign.", beside threats in the same words): with the threat
# head's corpus weight at 1 and no threat re-calibration (models 20261206-8f6306cb and -97007dcd, not kept), training on
# it took OLID macro-F1 from 0.748 to 0.745 and the functional probes from 73.3% to 70.0%, and left the
# civil_demands behaviour cases where they were (21 of 24 either way).
# `life` (everyday subjects, recipes, allotments, pets, DIY, full of ordinary concrete words and of innocent
# words that hold or resemble swear words, "cockpit", "shiitake", "pussy willow", "hoeing", beside abuse in the
# same settings): trained on (model 20261207-5baf7de7, not kept), it took OLID macro-F1 from 0.745 to 0.743,
# the functional probes from 75.0% to 71.9%, ARC unseen-claim stance from 0.377 to 0.375 and the Times'
# published comments held from 5.8% to 6.7%; Jigsaw incitement AUC went from 0.934 to 0.938, and innocent
# words barely moved ("My pussycat sleeps all day." 0.92 -> 0.90 profanity, "Mushrooms are tasty." 0.69 ->
# 0.41 toxicity in a sentence with "shiitake").
TEST_PARTS = ("thrt", "idea", "dmnd", "life")


def is_test_article(article_id: str) -> bool:
    """Whether an article belongs to the fixed, article-disjoint test split (a hash, or a part in
    :data:`TEST_PARTS`; never trained on)."""
    part = article_id.split("-")[1] if article_id.count("-") >= 2 else None  # art-<part>-NN
    return part in TEST_PARTS or int(hashlib.sha1(article_id.encode()).hexdigest()[:8], 16) % TEST_SHARE == 0


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: not valid JSON: {exc}") from exc
    return rows


def load_corpus(data_dir: Path = DATA_DIR) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Articles and comments of every part, with a boolean ``test`` column on both."""
    corpus = Path(data_dir) / "corpus"
    articles = [r for p in sorted(corpus.glob("articles-*.jsonl")) for r in _read_jsonl(p)]
    comments = [dict(r, part=p.stem.split("-", 1)[1])
                for p in sorted(corpus.glob("comments-*.jsonl")) for r in _read_jsonl(p)]
    if not articles or not comments:
        raise FileNotFoundError(f"no corpus files under {corpus}")
    arts = pd.DataFrame(articles)
    coms = pd.DataFrame(comments)
    arts["test"] = arts["id"].map(is_test_article)
    coms["test"] = coms["article_id"].map(is_test_article)
    return arts, coms


def violation_frame(comments: pd.DataFrame) -> pd.DataFrame:
    """Corpus comments in the training frame's shape: ``text``, one column per head, provenance."""
    frame = pd.DataFrame({"text": comments["text"].astype(str)})
    for head in HEADS:
        if head == "toxicity":
            any_violation = comments[["profanity", "personal_attack", "incitement"]].max(axis=1)
            frame[head] = any_violation.astype(float)
        else:
            frame[head] = comments[head].astype(float)
    frame["source"] = "corpus"
    frame["item_id"] = comments["id"].astype(str)
    frame["split_key"] = comments["article_id"].astype(str)
    return frame.reset_index(drop=True)


def stance_frame(comments: pd.DataFrame, articles: pd.DataFrame) -> pd.DataFrame:
    """Corpus (comment, article) stance pairs; the article is its title and body, as at scoring."""
    text = (articles["title"] + "\n" + articles["body"]).rename("article")
    by_id = pd.Series(text.values, index=articles["id"])
    frame = pd.DataFrame({
        "comment": comments["text"].astype(str).values,
        "article": comments["article_id"].map(by_id).values,
        "stance": comments["stance"].values,
        "claim_id": comments["article_id"].values,
        "source": "corpus",
        "item_id": comments["id"].values,
    })
    return frame[frame["article"].notna()].reset_index(drop=True)


def corpus_hashes(data_dir: Path = DATA_DIR) -> dict[str, str]:
    """SHA-256 of each corpus file, for the training manifest."""
    out = {}
    for path in sorted((Path(data_dir) / "corpus").glob("*.jsonl")):
        out[f"data/corpus/{path.name}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def split_mask(keys, share: float, salt: str = "validation") -> np.ndarray:
    """Deterministic hash split: True for the ``share`` of keys that go to validation."""
    cut = int(share * 10_000)
    return np.array([int(hashlib.sha1(f"{salt}:{k}".encode()).hexdigest()[:8], 16) % 10_000 < cut
                     for k in keys])
