"""Model files: a save-load round trip gives the same scores; tampering is refused."""

import functools
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import skops.io as sio

from moderation.errors import ModelError
from moderation.inference import to_arrays
from moderation.persistence import load_components, save_components, sha256_file
from moderation.scorer import Scorer, default_model_dir

TEXTS = ["You absolute moron.", "Thanks for the article.", "f*ck this", "They should all be shot."]


@pytest.fixture
def model_copy(tmp_path):
    target = tmp_path / "model"
    shutil.copytree(default_model_dir(), target)
    return target


def _rehash(model_dir, name: str) -> None:
    """Rewrite the manifest's hash and size of one file to match it, as an attacker with write access would."""
    manifest = json.loads((model_dir / "manifest.json").read_text())
    manifest["files"][name].update(sha256=sha256_file(model_dir / name), bytes=(model_dir / name).stat().st_size)
    (model_dir / "manifest.json").write_text(json.dumps(manifest))


def test_round_trip_gives_identical_scores(scorer, tmp_path):
    components, _ = load_components(default_model_dir())
    save_components(tmp_path / "again", components, {"model_version": "round-trip"},
                    arrays=to_arrays(scorer.violation, scorer.stance))
    again = Scorer.load(tmp_path / "again")
    before = [(s.scores, s.stance_scores) for s in scorer.score_batch(TEXTS)]
    after = [(s.scores, s.stance_scores) for s in again.score_batch(TEXTS)]
    assert before == after
    assert again.version == "round-trip"
    fitted, _ = load_components(tmp_path / "again")  # the scikit-learn estimators
    skops_only = Scorer(fitted["violation"], fitted["stance"], {})
    assert [s.scores for s in skops_only.score_batch(TEXTS)] == [s for s, _ in before]


def test_scoring_imports_neither_scikit_learn_nor_skops():
    """A scoring process reads scoring.npz only: about 130 MB less resident memory."""
    probe = ("import sys; from moderation.scorer import Scorer, Article; s = Scorer.load(); "
             "s.add_article(Article('a', 'Cycle lanes', 'The council voted for cycle lanes.')); "
             "x = s.score('You absolute moron, the lanes are great.', 'a'); s.explain('You moron', score=x); "
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'skops'}))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_scoring_array_file_that_needs_pickle_is_refused_even_with_a_matching_hash(model_copy):
    path = model_copy / "scoring.npz"
    np.savez(path, heads=np.array([functools.partial(print, "pwned")], dtype=object))
    _rehash(model_copy, "scoring.npz")
    with pytest.raises(ModelError, match="scoring.npz"):
        Scorer.load(model_copy)


@pytest.mark.parametrize("manifest", ["[]", '{"files": []}', '{"files": {"scoring.npz": "abc"}}'])
def test_a_manifest_of_the_wrong_shape_is_refused_with_a_clear_error(model_copy, manifest):
    (model_copy / "manifest.json").write_text(manifest)
    with pytest.raises(ModelError, match="is not a model manifest"):
        Scorer.load(model_copy)


@pytest.mark.parametrize("content", ["bytes", "zero-d arrays"])
def test_a_scoring_array_file_that_is_not_a_model_is_refused_even_with_a_matching_hash(model_copy, content):
    path = model_copy / "scoring.npz"
    if content == "bytes":
        path.write_bytes(b"not an archive")
        message = "not an .npz archive"
    else:
        with np.load(path) as arrays:  # the format number right, every other array a bare 0
            fake = {name: arrays[name] if name == "format" else np.array(0) for name in arrays.files}
        np.savez(path, **fake)
        message = "does not hold a scoring model"
    _rehash(model_copy, "scoring.npz")
    with pytest.raises(ModelError, match=message):
        Scorer.load(model_copy)
    result = subprocess.run([sys.executable, "-m", "moderation.cli", "explain", "hi", "--model", str(model_copy)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_manifest_records_hashes_versions_and_data(scorer):
    m = scorer.manifest
    assert set(m["files"]) == {"violation.skops", "stance.skops", "scoring.npz"}
    assert all(len(f["sha256"]) == 64 for f in m["files"].values())
    assert m["libraries"]["scikit-learn"]
    assert m["training_data"]["sha256"]
    assert "corpus" in m["training_data"]["sources"]


@pytest.mark.parametrize("name", ["violation.skops", "scoring.npz"])
def test_a_tampered_file_is_refused(model_copy, name):
    path = model_copy / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=f"{name} does not match its manifest"):
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
    _rehash(model_copy, "violation.skops")
    with pytest.raises(ModelError, match="unreviewed types"):
        load_components(model_copy)


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="manifest.json is missing"):
        Scorer.load(tmp_path)


def test_a_model_directory_without_scoring_arrays_is_read_from_its_skops_files(model_copy, scorer):
    """Versions trained before scoring.npz existed still load (from the estimators) and score the same."""
    (model_copy / "scoring.npz").unlink()
    manifest = json.loads((model_copy / "manifest.json").read_text())
    del manifest["files"]["scoring.npz"]
    (model_copy / "manifest.json").write_text(json.dumps(manifest))
    older = Scorer.load(model_copy)
    assert [s.scores for s in older.score_batch(TEXTS)] == [s.scores for s in scorer.score_batch(TEXTS)]


@pytest.mark.parametrize("entry", ["../outside.npz", "/tmp/outside.npz", "sub/scoring.npz", ".."])
def test_a_manifest_naming_a_file_outside_the_model_folder_is_refused(model_copy, entry):
    manifest = json.loads((model_copy / "manifest.json").read_text())
    manifest["files"][entry] = manifest["files"].pop("scoring.npz")
    (model_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="must be plain file names in its own folder"):
        Scorer.load(model_copy)


def test_a_model_file_that_is_a_symbolic_link_is_refused(model_copy, tmp_path):
    outside = tmp_path / "elsewhere.npz"
    (model_copy / "scoring.npz").rename(outside)
    (model_copy / "scoring.npz").symlink_to(outside)  # same bytes, same hash: still not the folder's own file
    with pytest.raises(ModelError, match="scoring.npz is a symbolic link"):
        Scorer.load(model_copy)


def test_what_is_loaded_is_the_bytes_that_were_hashed(model_copy, scorer, monkeypatch):
    """A file replaced between the hash check and the load (a version rewritten in place, or an attacker
    racing the check) is not loaded: the load reads the checked bytes, not the file again."""
    import moderation.scorer as scorer_module

    arrays = dict(np.load(model_copy / "scoring.npz", allow_pickle=False))
    doctored = model_copy / "doctored.npz"
    np.savez_compressed(doctored, **{**arrays, "violation_b": arrays["violation_b"] - 50})  # every score near 0
    checked = scorer_module.verify_files

    def check_then_swap(*args, **kwargs):
        result = checked(*args, **kwargs)
        doctored.replace(model_copy / "scoring.npz")
        return result

    monkeypatch.setattr(scorer_module, "verify_files", check_then_swap)
    loaded = Scorer.load(model_copy)
    assert not (model_copy / "doctored.npz").exists()  # the swap happened
    assert [s.scores for s in loaded.score_batch(TEXTS)] == [s.scores for s in scorer.score_batch(TEXTS)]


def test_a_component_of_the_wrong_kind_is_refused_even_with_a_matching_hash(model_copy):
    (model_copy / "scoring.npz").unlink()
    manifest = json.loads((model_copy / "manifest.json").read_text())
    del manifest["files"]["scoring.npz"]
    (model_copy / "manifest.json").write_text(json.dumps(manifest))
    shutil.copy(model_copy / "stance.skops", model_copy / "violation.skops")
    _rehash(model_copy, "violation.skops")
    with pytest.raises(ModelError, match="violation.skops holds a StanceModel, not a ViolationModel"):
        Scorer.load(model_copy)


@pytest.mark.parametrize("offset", [200, 1_000, 5_000, 50_000, 500_000])
def test_a_corrupt_array_member_with_a_matching_hash_is_a_clear_error(model_copy, offset):
    # Inside a member's compressed bytes: its CRC no longer matches, or the compressed stream itself breaks
    # (zlib.error, found when a retrained model put other bytes at offset 200).
    data = bytearray((model_copy / "scoring.npz").read_bytes())
    data[offset] ^= 0xFF
    (model_copy / "scoring.npz").write_bytes(bytes(data))
    _rehash(model_copy, "scoring.npz")
    with pytest.raises(ModelError, match="scoring.npz (is not a readable array file|does not hold a scoring model)"):
        Scorer.load(model_copy)


def test_a_manifest_nested_too_deep_is_a_clear_error(model_copy):
    (model_copy / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelError, match="manifest.json is not valid JSON"):
        Scorer.load(model_copy)
