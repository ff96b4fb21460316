"""A model directory whose files match their manifest is still checked: array shapes and values, each file's
size before it is read, the manifest's model_version, and a --model path that is no model directory.

Each case tampers with a copy of the shipped model and rewrites the manifest to match, as someone who can
write the model folder could."""

import json
import shutil
import subprocess
import sys
import time
import tracemalloc

import numpy as np
import pytest

from moderation.errors import ModelError
from moderation.persistence import load_components, read_manifest, save_components, sha256_file, verify_files
from moderation.scorer import Scorer, default_model_dir

from .conftest import ROOT


@pytest.fixture
def model_copy(tmp_path):
    target = tmp_path / "model"
    shutil.copytree(default_model_dir(), target)
    return target


@pytest.fixture(scope="module")
def shipped_arrays():
    with np.load(default_model_dir() / "scoring.npz", allow_pickle=False) as arrays:
        return {name: arrays[name] for name in arrays.files}


def _rewrite_manifest(model_dir, name=None, **fields) -> None:
    """Set the manifest's ``fields``; with ``name``, also that file's sha256 and size, to match it."""
    manifest = json.loads((model_dir / "manifest.json").read_text())
    if name is not None:
        path = model_dir / name
        manifest["files"][name].update(sha256=sha256_file(path), bytes=path.stat().st_size)
    manifest.update(fields)
    (model_dir / "manifest.json").write_text(json.dumps(manifest))


def _write_arrays(model_dir, arrays) -> None:
    np.savez(model_dir / "scoring.npz", **arrays)  # uncompressed: quicker, and read the same
    _rewrite_manifest(model_dir, "scoring.npz")


def _cli(*args, stdin=""):
    return subprocess.run([sys.executable, "-m", "moderation.cli", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


# Scoring arrays that match their hash, each wrong in one way, and what the refusal must say.
def _cut(name, n):
    return lambda a: {**a, name: a[name][:n]}


def _without_head(a, head):
    """The arrays of a model trained without ``head``: its weight column, bias and calibration curve left out."""
    keep = np.array([h != head for h in a["heads"].tolist()])
    ends = np.cumsum(a["curve_lengths"])
    points = np.concatenate([np.full(n, k) for n, k in zip(a["curve_lengths"], keep)]).astype(bool)
    assert ends[-1] == len(points)
    return {**a, "heads": a["heads"][keep], "violation_W": a["violation_W"][:, keep], "violation_b": a["violation_b"][keep],
            "curve_lengths": a["curve_lengths"][keep], "curve_x": a["curve_x"][points], "curve_y": a["curve_y"][points]}


ARRAY_CASES = {
    "violation_W cut short": (_cut("violation_W", 100), r"violation_W has shape \(100, 7\): expected \(262144, 7\)"),
    "violation_b cut short": (_cut("violation_b", 2), r"violation_b has shape \(2,\): expected \(7,\)"),
    # Seven weight columns read as one head: "You absolute moron" scored as approve, with no error.
    "fewer heads than weight columns": (lambda a: {**a, "heads": np.array(["profanity"])},
                                        r"violation_W has shape \(262144, 7\): expected \(262144, 1\)"),
    # A policy reads a label without a head as 0: threats would be approved.
    "a policy label's head left out": (lambda a: _without_head(a, "incitement"),
                                       "it lacks incitement, which every scoring model has"),
    # Renamed heads passed every check, and the policy, reading a label without a head as 0, approved threats.
    "heads renamed": (lambda a: {**a, "heads": np.array([f"h{i}" for i in range(7)])},
                      "h0, h1, h2, h3, h4, h5, h6 are no label of this version"),
    "a head renamed": (lambda a: {**a, "heads": np.array([h if h != "spam" else "adverts" for h in a["heads"]])},
                       "adverts is no label of this version"),
    "the same head twice": (lambda a: {**a, "heads": np.array(["profanity"] * 7)}, "distinct head names"),
    "featurizer wider than the weights": (lambda a: {**a, "n_features": np.array(2**19), "idf": np.resize(a["idf"], 2**19)},
                                          r"violation_W has shape \(262144, 7\): expected \(524288, 7\)"),
    "negative n_features": (lambda a: {**a, "n_features": np.array(-1)}, "n_features is -1"),
    "idf cut short": (_cut("idf", 10), r"idf has shape \(10,\)"),
    "n-gram range backwards": (lambda a: {**a, "char_ngrams": np.array([5, 2])}, r"char_ngrams is \[5, 2\]"),
    "stance_W cut short": (_cut("stance_W", 262144), r"stance_W has shape \(262144, 4\): expected \(262155, 4\)"),
    "stance_b cut short": (_cut("stance_b", 3), r"stance_b has shape \(3,\): expected \(4,\)"),
    "a curve missing": (_cut("curve_lengths", 6), r"curve_lengths has shape \(6,\): expected \(7,\)"),
    # (how many points the curves have changes with each training: ten fewer than curve_lengths add up to)
    "curve points miscounted": (lambda a: {**a, "curve_y": a["curve_y"][:-10]},
                                r"curve_y has shape \(\d+,\): expected \(\d+,\)"),
    # NaN curves made every comment "skipped ... malformed", blaming the input.
    "NaN curves": (lambda a: {**a, "curve_y": np.full_like(a["curve_y"], np.nan)}, "curve_y holds NaN"),
    # Curves times 5 gave "probabilities" up to 17.59.
    "probabilities above 1": (lambda a: {**a, "curve_y": a["curve_y"] * 5},
                              r"curve_y: the calibration curve of 'profanity' is wrong at its point \d+ .*within \[0, 1\]"),
    "scores not increasing": (lambda a: {**a, "curve_x": -a["curve_x"]},
                              "curve_x: the calibration curve of 'profanity' .*strictly increasing"),
    "NaN bias": (lambda a: {**a, "stance_b": np.full(4, np.nan, dtype=np.float32)}, "stance_b holds NaN"),
    "text where numbers belong": (lambda a: {**a, "relatedness_scale": np.array("3")},
                                  "relatedness_scale holds <U1 values: expected numbers"),
    "an array missing": (lambda a: {k: v for k, v in a.items() if k != "violation_b"}, "lack violation_b"),
    # The shipped common words' columns (a process starts with them): wrong ones would change every score.
    "shipped word columns of other hashing": (lambda a: {**a, "seed_columns": (a["seed_columns"] + 1) % 262144},
                                              "seed_columns does not hold the columns its words hash to"),
    "shipped word lengths miscounted": (_cut("seed_lengths", 100), r"seed_lengths has shape \(100,\)"),
    "shipped word columns without their words": (lambda a: {k: v for k, v in a.items() if k != "seed_words"},
                                                 "hold seed_lengths, seed_columns but not all of"),
    "a shipped word column outside the features": (
        lambda a: {**a, "seed_columns": np.r_[a["seed_columns"][:-1], 262144].astype(np.int32)},
        "seed_columns: columns outside 0 to n_features - 1"),
}


@pytest.mark.parametrize("case", list(ARRAY_CASES))
def test_scoring_arrays_that_do_not_fit_together_are_refused_naming_the_array(model_copy, shipped_arrays, case):
    change, message = ARRAY_CASES[case]
    _write_arrays(model_copy, change(shipped_arrays))
    with pytest.raises(ModelError, match="scoring.npz does not hold a scoring model: .*" + message):
        Scorer.load(model_copy)


def test_a_model_without_shipped_word_columns_loads_and_scores_the_same(model_copy, shipped_arrays):
    """The shipped words only save hashing: a model written before them (no seed arrays) scores the same."""
    from moderation import hashing

    assert "seed_words" in shipped_arrays
    _write_arrays(model_copy, {k: v for k, v in shipped_arrays.items() if not k.startswith("seed_")})
    texts = ["You absolute moron, the council wasted our money.", "A fine point about the harbour."]
    without, shipped = Scorer.load(model_copy), Scorer.load(None)
    assert not without.violation.featurizer_.seeds and len(shipped.violation.featurizer_.seeds) == 20_000
    scores = []
    for scorer in (without, shipped):
        hashing._WORD_TABLES.clear()  # each from a cold table, as a new process
        scores.append([s.scores for s in scorer.score_batch(texts)])
    assert scores[0] == scores[1]


def test_a_model_s_shipped_word_columns_do_not_change_another_model_s_scores(model_copy, shipped_arrays):
    """A copy whose shipped columns for "idiot" are wrong (a word the load check does not sample) scores with
    them itself, but the shipped model loaded after it scores "You are an idiot." as before (found by a review:
    the first model to load a word once won for every model in the process)."""
    from moderation import hashing
    from moderation.inference import _seed_words

    words = _seed_words(shipped_arrays)
    at = words.index("idiot")
    starts = np.r_[0, np.cumsum(shipped_arrays["seed_lengths"])[:-1]]
    columns = shipped_arrays["seed_columns"].copy()
    columns[starts[at]:starts[at] + shipped_arrays["seed_lengths"][at]] = 7
    _write_arrays(model_copy, {**shipped_arrays, "seed_columns": columns})
    hashing._WORD_TABLES.clear()
    before = Scorer.load(None).score("You are an idiot.").scores
    hashing._WORD_TABLES.clear()
    Scorer.load(model_copy).score("You are an idiot.")
    assert Scorer.load(None).score("You are an idiot.").scores == before


def test_an_infinite_weight_is_refused(model_copy, shipped_arrays):
    W = shipped_arrays["violation_W"].copy()
    W[12345, 3] = np.inf
    _write_arrays(model_copy, {**shipped_arrays, "violation_W": W})
    with pytest.raises(ModelError, match="violation_W holds NaN or infinite values"):
        Scorer.load(model_copy)


@pytest.mark.parametrize("case", ["violation_b cut short", "NaN curves"])
def test_the_cli_refuses_such_a_model_with_exit_status_2_before_reading_input(model_copy, shipped_arrays, case):
    """Before: a traceback (exit 1), or every comment 'skipped ... malformed' as if the input were wrong."""
    change, _ = ARRAY_CASES[case]
    _write_arrays(model_copy, change(shipped_arrays))
    result = _cli("score", "--input", "-", "--model", str(model_copy),
                  stdin=json.dumps({"id": "c1", "text": "you absolute moron"}) + "\n")
    assert result.returncode == 2, result.stderr
    assert "does not hold a scoring model" in result.stderr and "Traceback" not in result.stderr
    assert "malformed" not in result.stderr and result.stdout == ""


def test_skops_files_that_do_not_fit_together_are_refused(model_copy, tmp_path):
    """A model directory from before scoring.npz is read from its estimators: they get the same checks."""
    components, _ = load_components(model_copy)
    head = components["violation"].heads[0]
    components["violation"].calibrators_[head].y_thresholds_ = components["violation"].curve(head)[1] * 5
    save_components(tmp_path / "old", components, {"model_version": "old"})  # no scoring.npz
    with pytest.raises(ModelError, match=f"skops files do not hold a scoring model: .*curve of {head!r}"):
        Scorer.load(tmp_path / "old")


# File sizes -------------------------------------------------------------------------------------------

def test_a_file_larger_than_its_manifest_says_is_refused_before_it_is_read(model_copy):
    path = model_copy / "scoring.npz"
    listed = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.truncate(256 * 2**20)  # sparse: 256 MiB that cost no disk
    tracemalloc.start()
    try:
        started = time.perf_counter()
        with pytest.raises(ModelError, match=f"scoring.npz is 268,435,456 bytes but its manifest says {listed:,}"):
            Scorer.load(model_copy)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20, f"{peak:,} bytes held while refusing it: the file was read"
    assert time.perf_counter() - started < 5


def test_a_file_smaller_than_its_manifest_says_is_refused_naming_both_sizes(model_copy):
    manifest = json.loads((model_copy / "manifest.json").read_text())
    listed = manifest["files"]["stance.skops"]["bytes"]
    manifest["files"]["stance.skops"]["bytes"] = listed + 1
    (model_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=f"stance.skops is {listed:,} bytes but its manifest says {listed + 1:,}"):
        Scorer.load(model_copy)


@pytest.mark.parametrize("size", [None, "9982656", -1, 1.5, True])
def test_a_manifest_without_a_usable_size_is_refused(model_copy, size):
    manifest = json.loads((model_copy / "manifest.json").read_text())
    manifest["files"]["scoring.npz"]["bytes"] = size
    if size is None:
        del manifest["files"]["scoring.npz"]["bytes"]
    (model_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=r"gives scoring.npz the size .*: expected \"bytes\""):
        Scorer.load(model_copy)


def test_files_that_are_only_checked_are_hashed_in_pieces(model_copy):
    """Loading reads scoring.npz but checks every file; the others (violation.skops: 7 MB) are never held whole."""
    manifest = read_manifest(model_copy)
    tracemalloc.start()
    try:
        assert verify_files(model_copy, manifest, keep=()) == {}
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20, f"{peak:,} bytes held while hashing"


# The manifest -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", [{"name": "v1"}, ["v1"], 5, None, "", "   ", "v1\nmodel_version=v2", "missing"])
def test_a_model_version_that_is_not_a_name_is_refused(model_copy, version):
    """It is printed into every verdict and log line: an object was printed whole, a missing one as 'unknown'."""
    manifest = json.loads((model_copy / "manifest.json").read_text())
    if version == "missing":
        del manifest["model_version"]
    else:
        manifest["model_version"] = version
    (model_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="manifest.json gives model_version .*: expected the model's version name"):
        Scorer.load(model_copy)


def test_a_manifest_that_is_a_symbolic_link_is_refused(model_copy, tmp_path):
    outside = tmp_path / "elsewhere.json"
    (model_copy / "manifest.json").rename(outside)
    (model_copy / "manifest.json").symlink_to(outside)  # the same manifest: still not the folder's own file
    with pytest.raises(ModelError, match="manifest.json is a symbolic link"):
        Scorer.load(model_copy)


# --model ----------------------------------------------------------------------------------------------

def test_a_model_path_that_does_not_exist_is_named_as_such(tmp_path):
    result = _cli("score", "--input", "-", "--model", str(tmp_path / "nonexistent"))
    assert result.returncode == 2
    assert f"model directory {tmp_path / 'nonexistent'}: no such directory" in result.stderr
    assert "manifest.json" not in result.stderr


def test_a_model_path_that_is_a_file_is_named_as_such(model_copy, tmp_path):
    with pytest.raises(ModelError, match="scoring.npz: not a directory"):
        Scorer.load(model_copy / "scoring.npz")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="manifest.json is missing"):  # a folder: what it lacks
        Scorer.load(tmp_path / "empty")


def test_only_the_arrays_scoring_reads_are_loaded(model_copy, shipped_arrays):
    """An array scoring never reads is not loaded (a review put 600 MB of zeros in a file under 25 MB)."""
    from moderation.persistence import load_arrays

    _write_arrays(model_copy, {**shipped_arrays, "extra": np.zeros(10**6)})
    assert Scorer.load(model_copy).score("You absolute moron").scores == Scorer.load().score("You absolute moron").scores
    assert "extra" not in load_arrays(model_copy, names=("heads", "format"))


def test_arrays_too_large_once_uncompressed_are_refused_before_they_are_read(model_copy, shipped_arrays, monkeypatch):
    monkeypatch.setattr("moderation.persistence.MAX_ARRAY_BYTES", 2**20)
    _write_arrays(model_copy, shipped_arrays)
    with pytest.raises(ModelError, match=r"scoring.npz holds [\d,]+ bytes of arrays once uncompressed, more than the 1,048,576"):
        Scorer.load(model_copy)


def test_an_array_whose_header_asks_for_more_than_the_cap_is_refused_not_allocated(model_copy, shipped_arrays):
    """A review wrote an idf.npy 64 bytes long whose header declared 2**40 floats: NumPy tried to allocate 8 TiB
    and the load failed with a MemoryError, which the service and registry do not turn into a named refusal."""
    import io
    import zipfile

    _write_arrays(model_copy, shipped_arrays)
    path = model_copy / "scoring.npz"
    header = np.lib.format.header_data_from_array_1_0(np.zeros(1, dtype=np.float64))
    header["shape"] = (2**40,)
    forged = io.BytesIO()
    np.lib.format.write_array_header_1_0(forged, header)
    forged.write(b"\0" * 64)
    with zipfile.ZipFile(path) as archive:
        members = {m.filename: archive.read(m) for m in archive.infolist()}
    members["idf.npy"] = forged.getvalue()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    _rewrite_manifest(model_copy, "scoring.npz")
    with pytest.raises(ModelError, match=r"holds [\d,]+ bytes of arrays once uncompressed"):
        Scorer.load(model_copy)
