"""Model files: a save-load round trip gives the same scores; tampering is refused."""

import functools
import json
import shutil

import pytest
import skops.io as sio

from moderation.errors import ModelError
from moderation.persistence import load_components, save_components
from moderation.scorer import Scorer, default_model_dir

TEXTS = ["You absolute moron.", "Thanks for the article.", "f*ck this", "They should all be shot."]


@pytest.fixture
def model_copy(tmp_path):
    target = tmp_path / "model"
    shutil.copytree(default_model_dir(), target)
    return target


def test_round_trip_gives_identical_scores(scorer, tmp_path):
    save_components(tmp_path / "again", {"violation": scorer.violation, "stance": scorer.stance},
                    {"model_version": "round-trip"})
    again = Scorer.load(tmp_path / "again")
    before = [s.scores for s in scorer.score_batch(TEXTS)]
    after = [s.scores for s in again.score_batch(TEXTS)]
    assert before == after
    assert again.version == "round-trip"


def test_manifest_records_hashes_versions_and_data(scorer):
    m = scorer.manifest
    assert set(m["files"]) == {"violation.skops", "stance.skops"}
    assert all(len(f["sha256"]) == 64 for f in m["files"].values())
    assert m["libraries"]["scikit-learn"]
    assert m["training_data"]["sha256"]
    assert "corpus" in m["training_data"]["sources"]


def test_a_tampered_file_is_refused(model_copy):
    path = model_copy / "violation.skops"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match its manifest"):
        Scorer.load(model_copy)


def test_a_mismatched_manifest_is_refused(model_copy):
    manifest = json.loads((model_copy / "manifest.json").read_text())
    manifest["files"]["stance.skops"]["sha256"] = "0" * 64
    (model_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="stance.skops does not match"):
        load_components(model_copy)


def test_a_file_with_unreviewed_types_is_refused_even_with_a_matching_hash(model_copy):
    # An attacker who can rewrite the manifest too still cannot make us build arbitrary objects.
    evil = model_copy / "violation.skops"
    sio.dump({"payload": functools.partial(print, "pwned")}, evil)
    manifest = json.loads((model_copy / "manifest.json").read_text())
    from moderation.persistence import sha256_file

    manifest["files"]["violation.skops"]["sha256"] = sha256_file(evil)
    (model_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="unreviewed types"):
        load_components(model_copy)


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="manifest.json is missing"):
        Scorer.load(tmp_path)
