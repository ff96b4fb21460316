"""The public-dataset adapters in training.sources, checked against the datasets' README counts.

Needs the public datasets (``$MODERATION_DATASETS`` or ``../shared/datasets``); skipped without them.
Each source is loaded once per module.
"""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from moderation.labels import HEADS as LABEL_HEADS
from moderation.labels import STANCES
from training import sources
from training.sources import HEADS, SOURCES

ROOT = sources.datasets_dir()
if not ROOT.is_dir():
    pytest.skip(f"public datasets not found at {ROOT}; set {sources.DATASETS_ENV}", allow_module_level=True)

VIOLATION = [name for name, s in SOURCES.items() if s.kind == "violation"]
STANCE = [name for name, s in SOURCES.items() if s.kind == "stance"]
EXTRA_COLUMNS = {"jigsaw_toxic_sample": {"part"}, "toxic_spans": {"spans"}, "toxigen_annotated": {"target_group"},
                 "olid": {"weak_profanity"}}
# Rows per the datasets README (stance: less the exact duplicate rows it reports; a few more pairs
# repeat under a second Body ID with the same text).
EXPECTED_ROWS = {
    "jigsaw_toxic_sample": 9_848, "toxic_spans": 14_093, "davidson2017": 24_783, "olid": 13_240,
    "toxigen_annotated": 6_272, "wiki_attack_sample": 3_674, "nyt_comments": 4_350,
    "arc_stance": 13_780 - 154, "fnc1": 49_972 - 402, "semeval2016_stance": 2_814,
}


@pytest.fixture(scope="module")
def frames():
    """Every source, loaded once."""
    return {name: spec.loader(ROOT) for name, spec in SOURCES.items()}


def readme_default_model() -> dict[str, bool]:
    """Source name -> the `default-model` field of its section in the datasets README."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    out = {}
    for section in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        flag = re.search(r"\*\*default-model: (yes|no)", section)
        if flag:
            out[section.split("\n", 1)[0].strip()] = flag.group(1) == "yes"
    return out


def test_heads_are_the_products_heads():
    assert HEADS == LABEL_HEADS


def test_datasets_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv(sources.DATASETS_ENV, str(tmp_path / "env"))
    assert sources.datasets_dir(tmp_path / "explicit") == tmp_path / "explicit"
    assert sources.datasets_dir() == tmp_path / "env"
    monkeypatch.delenv(sources.DATASETS_ENV)
    assert sources.datasets_dir() == Path(sources.__file__).resolve().parent.parent.parent / "shared" / "datasets"


@pytest.mark.parametrize("name", VIOLATION)
def test_violation_frame_shape(frames, name):
    frame = frames[name]
    assert list(frame.columns[:len(HEADS) + 4]) == ["text", *HEADS, "source", "item_id", "split_key"]
    assert set(frame.columns[len(HEADS) + 4:]) == EXTRA_COLUMNS.get(name, set())
    assert (frame["source"] == name).all()
    for head in HEADS:
        assert frame[head].dtype == np.float64
        assert set(frame[head].dropna().unique()) <= {0.0, 1.0}, head
    assert frame["text"].map(lambda t: isinstance(t, str) and t == t.strip() and t != "").all()
    assert frame["item_id"].map(type).eq(str).all() and frame["item_id"].is_unique
    assert frame["split_key"].map(type).eq(str).all()
    # Every row must teach at least one head something.
    assert frame[list(HEADS)].notna().any(axis=1).all()


@pytest.mark.parametrize("name", [*VIOLATION, *STANCE])
def test_row_counts_match_readme(frames, name):
    assert len(frames[name]) == pytest.approx(EXPECTED_ROWS[name], rel=0.01)


@pytest.mark.parametrize("name", STANCE)
def test_stance_frame_shape(frames, name):
    frame = frames[name]
    assert list(frame.columns) == ["comment", "article", "stance", "claim_id", "source", "item_id"]
    assert set(frame["stance"]) <= set(STANCES)
    assert (frame["source"] == name).all()
    assert frame["comment"].str.strip().ne("").all() and frame["article"].str.strip().ne("").all()
    assert not frame.duplicated(["comment", "article", "stance"]).any()
    assert frame["item_id"].is_unique
    # One claim id per distinct article text and vice versa.
    assert frame.groupby("claim_id")["article"].nunique().eq(1).all()
    assert frame.groupby("article")["claim_id"].nunique().eq(1).all()


def test_jigsaw(frames):
    frame = frames["jigsaw_toxic_sample"]
    assert frame["part"].value_counts().to_dict() == {"pool": 5_000, "random": 4_848}
    assert frame["profanity"].sum() == 1_565 + 205  # obscene, pools + random
    assert frame["threat"].sum() == 74 + 10
    assert (frame["incitement"] == frame[["threat", "identity_attack"]].max(axis=1)).all()


def test_toxic_spans(frames):
    frame = frames["toxic_spans"]
    clean = frame["toxicity"] == 0
    assert clean.any() and (frame.loc[clean, list(HEADS)] == 0).all().all()
    assert frame["personal_attack"].sum() > 5_000  # Insult dominates (7,659 comments with 2+ raters)
    for text, spans, row in zip(frame["text"], frame["spans"], frame.itertuples()):
        for start, end, head in spans:
            assert 0 <= start < end <= len(text)
            assert getattr(row, head) == 1.0
    assert frame["spans"].map(len).gt(0).sum() > 5_000
    known = frame[["threat", "identity_attack"]].notna().all(axis=1)
    either = frame.loc[known, ["threat", "identity_attack"]].max(axis=1)
    assert (frame.loc[known, "incitement"] == either).all()


def test_davidson(frames):
    frame = frames["davidson2017"]
    others = [h for h in HEADS if h != "toxicity"]
    assert (frame[others] == 0).all(axis=1).sum() == 4_163  # class 2, neither
    assert frame["toxicity"].isna().all()  # drawn by offensive words, 83% offensive: it would teach "yo" is abuse
    assert frame["identity_attack"].sum() == 1_430  # class 0, hate
    assert frame["profanity"].sum() == 19_190  # class 1, offensive
    assert frame["personal_attack"].eq(1).sum() == 0
    text = frame["text"]
    assert not text.str.contains("&amp;", regex=False).any()
    assert not text.str.match(r"RT @").any()
    assert not text.str.contains("http://", regex=False).any()


def test_olid(frames):
    frame = frames["olid"]
    assert frame["personal_attack"].sum() == 2_407 + 1_074  # IND and GRP: insults aimed at people
    assert frame["personal_attack"].notna().all()
    raw = pd.read_csv(sources.datasets_dir() / "olid" / "olid-training-v1.0.tsv", sep="\t", dtype=str,
                      keep_default_na=False).set_index("id")
    level_b = raw.loc[frame["item_id"], "subtask_b"].str.strip().to_numpy()
    unt = frame[level_b == "UNT"]
    assert len(unt) == 524 and (unt["profanity"] == 1).all() and (unt["personal_attack"] == 0).all()
    # Targeted tweets are profane when they hold a lexicon swear word, and unknown otherwise.
    tin = frame[level_b == "TIN"]
    swears = tin["text"].map(sources.has_swear_word)
    assert (tin.loc[swears, "profanity"] == 1).all() and tin.loc[~swears, "profanity"].isna().all()
    # Those labels are the lexicon's, not the annotators': marked, so that evaluation leaves them out.
    assert frame["weak_profanity"].sum() == swears.sum() and frame.loc[tin.index, "weak_profanity"].eq(swears).all()
    assert 500 < swears.sum() < 2_000  # 889 of 3,876
    assert (frame["toxicity"] == 1).sum() == (frame["profanity"] == 1).sum() + tin.loc[~swears].shape[0]
    assert (frame["toxicity"] == 0).sum() == 8_840  # NOT
    # Quoted tweets were read with CSV quoting, not split by hand.
    assert not frame["text"].str.contains("\t").any()


def test_toxigen(frames):
    frame = frames["toxigen_annotated"]
    assert not frame["text"].str.match(r"""b['"]""").any()
    assert frame["identity_attack"].eq(1).sum() == 1_620
    assert frame["identity_attack"].eq(0).sum() == 3_286
    assert frame["profanity"].eq(1).sum() == 72
    assert frame["threat"].isna().all() and (frame["personal_attack"] == 0).all()
    assert frame["target_group"].nunique() == 13


def test_wiki_attack(frames):
    frame = frames["wiki_attack_sample"]
    assert frame["personal_attack"].sum() == 922
    assert frame[[h for h in HEADS if h != "personal_attack"]].isna().all().all()


def test_arc(frames):
    frame = frames["arc_stance"]
    assert frame["claim_id"].nunique() == 140
    assert frame["claim_id"].str.fullmatch(r"arc-[0-9a-f]{12}").all()
    assert frame["stance"].value_counts()["favor"] == pytest.approx(1_295, rel=0.01)  # README counts duplicates


def test_nyt_comments(frames):
    """The ARC data's reader comments, each once: clean for the heads the Times' moderation speaks for."""
    frame = frames["nyt_comments"]
    clean = list(sources.NYT_CLEAN_HEADS)
    assert (frame[clean] == 0.0).all().all()
    assert frame[[h for h in HEADS if h not in clean]].isna().all().all()
    assert frame["item_id"].is_unique and (frame["source"] == "nyt_comments").all()
    bodies = frames["arc_stance"]["comment"]
    assert set(frame["text"]) >= set(bodies.str.strip())  # the comments the stance pairs read


def test_semeval(frames):
    frame = frames["semeval2016_stance"]
    assert not frame["comment"].str.contains("#SemST", regex=False).any()
    assert frame["stance"].value_counts().to_dict() == {"against": 1_342, "neutral": 741, "favor": 731}
    assert frame["article"].nunique() == 5


def test_registry_follows_readme_licences():
    readme = readme_default_model()
    for name, spec in SOURCES.items():
        assert readme[spec.folder] == spec.default_model, name  # a source read from another's folder: its licence
        assert spec.licence
    defaults = {s.name for kind in ("violation", "stance") for s in sources.default_sources(kind)}
    assert not defaults & {name for name, ok in readme.items() if not ok}
    assert defaults == {"jigsaw_toxic_sample", "toxic_spans", "davidson2017", "olid", "toxigen_annotated",
                        "arc_stance", "nyt_comments"}
    assert {s.kind for s in sources.default_sources("stance")} == {"stance"}


@pytest.mark.parametrize("name", list(SOURCES))
def test_file_hashes(name):
    hashes = sources.file_hashes(ROOT, name)
    assert set(hashes) == set(SOURCES[name].files)
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes.values())


@pytest.mark.parametrize("name", list(SOURCES))
def test_missing_directory_names_the_file(tmp_path, name):
    first = SOURCES[name].files[0]
    with pytest.raises(FileNotFoundError, match=re.escape(first)):
        SOURCES[name].loader(tmp_path)
    with pytest.raises(FileNotFoundError, match=re.escape(first)):
        sources.file_hashes(tmp_path, name)

