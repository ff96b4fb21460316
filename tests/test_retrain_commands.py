"""The retraining commands' refusals and messages: a review's findings, one test each (training.retrain)."""

from __future__ import annotations

import datetime
import hashlib
import json
import re

import pandas as pd
import pytest

from moderation.labels import HEADS
from moderation.scorer import default_model_dir
from training import corpus, retrain
from training import train as train_module
from training.compare import EvalSet, fixed_sets
from training.decisions import DecisionsError, read_decisions
from training.registry import LIVE_FILE, Registry
from webhook import db

from .model_helpers import copy_version

_WORSE = {"set": "corpus test", "label": "incitement", "metric": "f1", "live": 0.8, "candidate": 0.7,
          "delta": -0.1, "delta_upper95": -0.05}
_BETTER = {"set": "held-out decisions", "label": "personal_attack", "metric": "f1", "live": 0.4,
           "candidate": 0.9, "delta": 0.5, "delta_upper95": None}


@pytest.fixture
def registry(tmp_path) -> Registry:
    reg = Registry(tmp_path / "registry")
    reg.init(default_model_dir(), "tester")
    return reg


def _copy(registry: Registry, name: str, trained_at: str = "2030-01-01T00:00:00Z") -> str:
    return copy_version(registry.version_dir(name), name, trained_at)


def _run(registry: Registry, *args) -> int:
    return retrain.main(["--registry", str(registry.root), "--user", "tester", *args])


def _comparison(registry: Registry, version: str, gates: list, tolerance: float | None = 0.01) -> None:
    folder = registry.version_dir(version) / "evaluation"
    folder.mkdir(parents=True)
    result = {"live": registry.live(), "candidate": version, "gates": gates}
    if tolerance is not None:
        result["tolerance"] = tolerance
    (folder / "comparison.json").write_text(json.dumps(result))


def _no_training(*_args, **_kwargs):
    raise AssertionError("nothing should be trained")


# make train ---------------------------------------------------------------------------------------------
def test_the_same_data_on_another_day_is_already_trained(registry, monkeypatch, capsys):
    earlier = _copy(registry, "20300101-abcd1234")
    monkeypatch.setattr(train_module, "model_version", lambda *a, **k: "20300102-abcd1234")  # the next day
    monkeypatch.setattr(train_module, "train", _no_training)
    before = registry.versions()
    assert _run(registry, "train", "--public-rows", "0") == 0
    assert f"version {earlier} is already in" in capsys.readouterr().out
    assert registry.versions() == before


def test_no_decisions_says_the_export_was_left_out_on_purpose(registry, monkeypatch, capsys):
    registry.data_dir.mkdir(parents=True)
    (registry.data_dir / "decisions.jsonl").write_text('{"text": "x"}\n')
    asked = {}

    def version(*args, **kwargs):
        asked.update(kwargs)
        return registry.live()  # already trained: nothing runs

    monkeypatch.setattr(train_module, "model_version", version)
    monkeypatch.setattr(train_module, "train", _no_training)
    assert _run(registry, "train", "--public-rows", "0", "--no-decisions") == 0
    out = capsys.readouterr().out
    assert "leaving out the exported decisions" in out and "--no-decisions" in out and "make data` first" not in out
    assert asked["decisions"] is None


@pytest.mark.parametrize("value", ["-1", "-20", "ten"])
def test_public_rows_must_be_zero_or_more(value, capsys):
    with pytest.raises(SystemExit) as exit_:
        retrain.build_parser().parse_args(["train", "--public-rows", value])
    assert exit_.value.code == 2 and "0 or more" in capsys.readouterr().err
    assert retrain.build_parser().parse_args(["train", "--public-rows", "0"]).public_rows == 0


# make evaluate ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("setting", ["--datasets", "MODERATION_DATASETS"])
def test_evaluate_refuses_to_drop_the_public_gates_when_the_datasets_are_not_found(registry, tmp_path, monkeypatch,
                                                                                   capsys, setting):
    cand = _copy(registry, "v-c")
    _comparison(registry, cand, [_WORSE])  # an earlier NOT PROMOTABLE evaluation
    earlier = (registry.version_dir(cand) / "evaluation" / "comparison.json").read_bytes()
    typo = tmp_path / "datset"
    options = ["--datasets", str(typo)] if setting == "--datasets" else []
    if setting == "MODERATION_DATASETS":
        monkeypatch.setenv("MODERATION_DATASETS", str(typo))
    assert _run(registry, *options, "evaluate") == 2
    out = capsys.readouterr().out
    assert out.startswith("error:") and str(typo) in out and setting in out and "MODERATION_DATASETS" in out
    assert "jigsaw_toxic_sample" in out  # the shipped model's public sources
    evaluation = registry.version_dir(cand) / "evaluation"
    assert (evaluation / "comparison.json").read_bytes() == earlier and not (evaluation / "README.md").exists()


def test_public_sources_are_every_source_but_the_projects_own():
    manifest = {"training_data": {"sources": ["corpus", "decisions", "olid"],
                                  "rows_by_source": {"violation": {"corpus": 10, "olid": 3, "davidson2017": 0},
                                                     "stance": {"arc_stance": 5}}}}
    assert retrain._public_sources(manifest) == {"olid", "arc_stance"}
    assert retrain._public_sources({"training_data": {"sources": ["corpus", "decisions"]}}) == set()


# make promote -------------------------------------------------------------------------------------------
def test_promote_refuses_a_tolerance_other_than_the_evaluations(registry, monkeypatch, capsys):
    live = registry.live()
    cand = _copy(registry, "v-t")
    _comparison(registry, cand, [_WORSE], tolerance=0.01)  # NOT PROMOTABLE at 0.01, would pass at 0.2
    monkeypatch.setenv("MODERATION_PROMOTE_TOLERANCE", "0.2")
    assert _run(registry, "promote") == 2
    out = capsys.readouterr().out
    assert "evaluated at tolerance 0.01" in out and "now 0.2" in out and "make evaluate" in out
    assert registry.live() == live
    assert _run(registry, "promote", "--force", "--reason", "the site accepts it") == 0
    assert "promoted by override" in capsys.readouterr().out
    event = registry.history()[-1]
    assert event["action"] == "override" and event["detail"]["tolerance"] == 0.01
    assert event["detail"]["tolerance_now"] == 0.2 and "incitement" in event["detail"]["worse"][0]


def test_force_with_an_evaluation_against_another_live_version_is_an_override(registry, capsys):
    evaluated_against = registry.live()
    cand = _copy(registry, "v-e")
    _comparison(registry, cand, [_BETTER])  # passed, against the version live then
    registry.set_live(_copy(registry, "v-f", "2029-01-01T00:00:00Z"), "promote", "tester", "")
    assert _run(registry, "promote", "--version", cand, "--force", "--reason", "go") == 0
    assert "promoted by override" in capsys.readouterr().out
    event = registry.history()[-1]
    assert (event["action"], event["from"], event["to"]) == ("override", "v-f", cand)
    assert event["detail"]["evaluated_against"] == evaluated_against


# make data ----------------------------------------------------------------------------------------------
def _database(path, texts=()) -> str:
    url = f"sqlite:///{path}"
    engine = db.make_engine(url)
    db.migrate(engine)
    with db.transaction(engine) as conn:
        for i, text in enumerate(texts):
            db.insert_label(conn, "s", f"c{i}", text, "moderator_decision", 1.0, "review", {"code": "ABUSIVE"})
    engine.dispose()
    return url


def _data(registry: Registry, url: str) -> int:
    return _run(registry, "data", "--database", url, "--no-public-overlap")


def test_an_empty_export_does_not_replace_an_earlier_one(registry, tmp_path, capsys):
    assert _data(registry, _database(tmp_path / "full.sqlite", ["You snargle.", "Snargle again."])) == 0
    files = {name: (registry.data_dir / name).read_bytes() for name in ("decisions.jsonl", "REPORT.md")}
    capsys.readouterr()
    empty = _database(tmp_path / "empty.sqlite")
    assert _data(registry, empty) == 2
    out = capsys.readouterr().out
    assert out.startswith("error:") and empty in out and "has 2 rows" in out and "delete" in out
    assert {name: (registry.data_dir / name).read_bytes() for name in files} == files


def test_a_first_export_may_be_empty(registry, tmp_path, capsys):
    assert _data(registry, _database(tmp_path / "empty.sqlite")) == 0
    assert (registry.data_dir / "decisions.jsonl").read_text() == ""
    assert "wrote 0 decisions" in capsys.readouterr().out


@pytest.mark.parametrize("url", ["/var/lib/moderation.sqlite", "postgres://user:secret@host/db", "garbage", "::"])
def test_a_malformed_database_url_is_an_error_naming_the_setting(registry, monkeypatch, capsys, url):
    assert _run(registry, "data", "--database", url) == 2
    out = capsys.readouterr().out
    assert out.startswith("error:") and "--database" in out and "secret" not in out
    monkeypatch.setenv("MODERATION_DATABASE_URL", url)
    assert _run(registry, "data") == 2
    out = capsys.readouterr().out
    assert out.startswith("error:") and "MODERATION_DATABASE_URL" in out and "secret" not in out


# the registry -------------------------------------------------------------------------------------------
def test_status_warns_when_live_names_no_version_and_evaluate_says_it_is_live(registry, capsys):
    _copy(registry, "v-c")
    (registry.root / LIVE_FILE).write_text("20990101-deadbeef\n")
    assert _run(registry, "status") == 0
    out = capsys.readouterr().out
    assert "warning:" in out and "names 20990101-deadbeef" in out and "not a version" in out
    assert _run(registry, "evaluate") == 2
    out = capsys.readouterr().out
    assert out.startswith("error:") and "LIVE names 20990101-deadbeef" in out


def test_a_registry_that_is_a_file_is_named(tmp_path, capsys):
    (tmp_path / "reg").write_text("not a folder")
    assert retrain.main(["--registry", str(tmp_path / "reg"), "status"]) == 2
    out = capsys.readouterr().out
    assert out.startswith("error:") and str(tmp_path / "reg") in out and "--registry" in out
    assert "not a folder" in out and "Errno" not in out


def test_the_service_settings_in_instance_config_are_read_unless_the_environment_sets_them(tmp_path, monkeypatch,
                                                                                           capsys):
    monkeypatch.setattr(retrain, "_REPO", tmp_path)
    for name in ("MODERATION_REGISTRY", "MODERATION_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    url = _database(tmp_path / "service.sqlite", ["You snargle."])
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "config.py").write_text(
        f"REGISTRY = {str(tmp_path / 'service-registry')!r}\nDATABASE_URL = {url!r}\nSECRETS = 'x'\n")
    assert retrain.main(["status"]) == 0
    assert f"registry {tmp_path / 'service-registry'}\n" in capsys.readouterr().out
    assert retrain.main(["data", "--no-public-overlap"]) == 0
    assert "wrote 1 decisions" in capsys.readouterr().out
    assert (tmp_path / "service-registry" / "data" / "decisions.jsonl").is_file()
    monkeypatch.setenv("MODERATION_REGISTRY", str(tmp_path / "env-registry"))  # the environment wins
    assert retrain.main(["status"]) == 0
    assert f"registry {tmp_path / 'env-registry'}\n" in capsys.readouterr().out
    (tmp_path / "instance" / "config.py").write_text("REGISTRY = (\n")
    monkeypatch.delenv("MODERATION_REGISTRY")
    assert retrain.main(["status"]) == 2
    out = capsys.readouterr().out
    assert out.startswith("error: could not read") and "config.py" in out


def test_decisions_on_texts_the_evaluation_judges_are_not_trained_on(tmp_path):
    """A decision whose text is a corpus test comment or a behaviour case would lift the candidate on the very
    gates meant to catch what it got worse at; the others train."""
    from training import corpus

    _, comments = corpus.load_corpus(corpus.DATA_DIR)
    test_text = comments.loc[comments["test"], "text"].iloc[0]
    case_text = json.loads((corpus.DATA_DIR / "behaviour" / "cases.jsonl").read_text().splitlines()[0])["text"]
    fresh = "Snargles everywhere on this thread, moderators asleep again."
    rows = [{"split": "train", "key": str(i), "text": t, "personal_attack": 1.0}
            for i, t in enumerate([test_text.upper(), case_text, fresh])]
    path = tmp_path / "decisions.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    train_df, _ = train_module.violation_splits(tmp_path / "no-datasets", corpus.DATA_DIR, public_rows=0,
                                                decisions=path)
    from_decisions = train_df.loc[train_df["source"] == train_module.DECISIONS_SOURCE, "text"].tolist()
    assert from_decisions == [fresh]


# A review of the loop: training across midnight, stale evaluations, damaged exports, a lost LIVE -----------
class _Midnight(datetime.date):
    """A day that ends during training: the first call is 1 March, every later one 2 March."""

    calls = 0

    @classmethod
    def today(cls):
        cls.calls += 1
        return datetime.date(2031, 3, 1) if cls.calls == 1 else datetime.date(2031, 3, 2)


@pytest.mark.slow  # trains a corpus-only model: about ten seconds
def test_a_training_run_that_crosses_midnight_names_its_folder_as_its_manifest_does(registry, tmp_path, monkeypatch,
                                                                                    capsys):
    monkeypatch.setattr(train_module, "date", _Midnight)
    options = ["--datasets", str(tmp_path / "no-datasets")]
    assert _run(registry, *options, "train", "--public-rows", "0", "--no-decisions") == 0
    version = registry.candidate()
    assert version.startswith("20310301-") and _Midnight.calls > 1
    assert json.loads((registry.version_dir(version) / "manifest.json").read_text())["model_version"] == version
    assert _run(registry, "promote", "--force", "--reason", "midnight") == 0 and registry.live() == version
    capsys.readouterr()
    assert _run(registry, *options, "train", "--public-rows", "0", "--no-decisions") == 0
    assert f"version {version} is already in" in capsys.readouterr().out


def _export(registry: Registry, *texts: str) -> str:
    """A decisions export of held-out rejections; its SHA-256."""
    registry.data_dir.mkdir(parents=True, exist_ok=True)
    rows = [{"key": str(i), "text": t, "personal_attack": 1.0, "split": "heldout"} for i, t in enumerate(texts)]
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    (registry.data_dir / "decisions.jsonl").write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def test_promote_acts_only_on_an_evaluation_that_finished_on_the_current_export(registry, tmp_path, monkeypatch,
                                                                               capsys):
    from training import compare as compare_module

    cand = _copy(registry, "v-c")
    live = registry.live()
    cases = pd.read_json(corpus.DATA_DIR / "behaviour" / "cases.jsonl", lines=True).head(8)
    monkeypatch.setattr(compare_module, "fixed_sets", lambda *a, **k: [EvalSet("behaviour cases", "behaviour", cases)])
    evaluate = ["--datasets", str(tmp_path), "evaluate"]  # a folder: the public gates are not refused
    judged = _export(registry, "You snargle.")
    assert _run(registry, *evaluate) == 0 and "PROMOTABLE" in capsys.readouterr().out
    comparison = registry.version_dir(cand) / "evaluation" / "comparison.json"
    assert json.loads(comparison.read_text())["decisions_sha256"] == judged

    _export(registry, "You snargle.", "Snargle again.")  # `make data` ran again since
    assert _run(registry, "promote") == 2
    out = capsys.readouterr().out
    assert "another export of the moderators' decisions" in out and "run `make evaluate` again" in out
    assert registry.live() == live

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(compare_module, "fixed_sets", interrupted)  # Ctrl-C once the evaluation has started
    with pytest.raises(KeyboardInterrupt):
        _run(registry, *evaluate)
    assert not comparison.exists() and not (comparison.parent / "README.md").exists()
    _export(registry, "You snargle.")  # the export the earlier, passing evaluation judged
    assert _run(registry, "promote") == 2 and "has not been evaluated" in capsys.readouterr().out
    assert registry.live() == live

    monkeypatch.setattr(compare_module, "fixed_sets", lambda *a, **k: [EvalSet("behaviour cases", "behaviour", cases)])
    assert _run(registry, *evaluate) == 0
    assert _run(registry, "promote") == 0 and registry.live() == cand
    event = registry.history()[-1]
    assert event["action"] == "promote" and event["detail"]["decisions_sha256"] == judged


def test_a_forced_promotion_on_a_changed_export_is_an_override(registry, capsys):
    cand = _copy(registry, "v-c")
    _comparison(registry, cand, [_BETTER])  # judged on no export
    _export(registry, "You snargle.")
    assert _run(registry, "promote") == 2
    assert "without the moderators' decisions" in capsys.readouterr().out
    assert _run(registry, "promote", "--force", "--reason", "the export only grew") == 0
    event = registry.history()[-1]
    assert event["action"] == "override" and event["detail"]["decisions_sha256_now"]


_DAMAGED = [('{"key": "b", "text": "cut off mid-rec', "line 2 is not a JSON record"),
            ('{"key": "b", "personal_attack": 1.0, "split": "SPLIT"}', "line 2 has no text"),
            ('{"key": "b", "text": null, "personal_attack": 1.0, "split": "SPLIT"}', "line 2 has no text"),
            ('["b", "You snargle."]', "line 2 is not a decision (a JSON object) but an array"),
            ('{"key": "b", "text": "x", "personal_attack": "yes", "split": "SPLIT"}', "line 2 has personal_attack = 'yes'")]


@pytest.mark.parametrize("line,message", _DAMAGED)
@pytest.mark.parametrize("split", ["train", "heldout"])
def test_a_damaged_export_is_an_error_naming_the_file_and_line(registry, capsys, monkeypatch, line, message, split):
    monkeypatch.setattr(train_module, "train", _no_training)
    registry.data_dir.mkdir(parents=True)
    path = registry.data_dir / "decisions.jsonl"
    first = {"key": "a", "text": "You snargle.", "personal_attack": 1.0, "split": split}
    path.write_text(json.dumps(first) + "\n" + line.replace("SPLIT", split) + "\n")
    assert _run(registry, "train", "--public-rows", "0") == 2
    out = capsys.readouterr().out
    assert out.startswith(f"error: {path} {message}") and "make data" in out
    with pytest.raises(DecisionsError, match=re.escape(message)):
        train_module.load_decisions(path)
    with pytest.raises(DecisionsError, match=re.escape(message)):
        fixed_sets(registry.root / "no-datasets", path)


def test_an_export_reads_back_texts_holding_unicode_line_separators(registry, tmp_path):
    text = "First line\u2028second line\x85third, you snargle."
    _database(tmp_path / "m.sqlite", [text])
    assert _data(registry, f"sqlite:///{tmp_path / 'm.sqlite'}") == 0
    assert [row["text"] for row in read_decisions(registry.data_dir / "decisions.jsonl")] == [text]


def test_a_lost_live_file_is_never_replaced_by_the_shipped_model(registry, monkeypatch, capsys):
    first = registry.live()
    good = _copy(registry, "v-good")
    registry.set_live(good, "override", "tester", "site's own model")
    (registry.root / LIVE_FILE).unlink()
    history = (registry.root / "history.jsonl").read_bytes()
    monkeypatch.setattr(train_module, "train", _no_training)
    for command in (["train", "--public-rows", "0"], ["evaluate"], ["promote"], ["init"], ["rollback"]):
        assert _run(registry, *command) in (1, 2), command
        out = capsys.readouterr().out
        assert "LIVE is missing or empty" in out and f"says {good} is live" in out, command
        assert f"echo {good} > {registry.root / LIVE_FILE}" in out and f"go back to {first}" in out, command
        assert registry.live() is None and (registry.root / "history.jsonl").read_bytes() == history, command
    assert _run(registry, "status") == 0
    out = capsys.readouterr().out
    assert "live: (none: LIVE is missing" in out and f"warning: {registry.root / LIVE_FILE} is missing" in out
    assert "retrain init" not in out
    (registry.root / LIVE_FILE).write_text(f"{good}\n")  # restored as the message says
    assert _run(registry, "rollback") == 0 and registry.live() == first


def test_decisions_on_public_validation_texts_are_left_out_when_training_reads_a_sample(tmp_path, monkeypatch):
    """With PUBLIC_ROWS, training reads a sample of each public source, but `make evaluate` judges the whole
    public validation split whenever the datasets are present: a decision on one of its texts is not trained on."""
    from training import sources
    from training.evaluate import public_validation

    words = ("harbour", "ferry", "bypass", "library", "market", "regatta")
    texts = [f"The {a} and the {b} beside the {c}." for a in words for b in words for c in words]
    public = pd.DataFrame({"text": texts, **{h: [float(i % 2) for i in range(len(texts))] for h in HEADS},
                           "source": "fake", "item_id": [f"f{i}" for i in range(len(texts))]})
    public["split_key"] = public["item_id"]
    fake = sources.Source("fake", lambda _root: public.copy(), "violation", True, "test", (), "fake")
    monkeypatch.setattr(sources, "default_sources", lambda kind: [fake] if kind == "violation" else [])
    root = tmp_path / "datasets"
    root.mkdir()
    judged = set(public_validation(root, corpus.DATA_DIR)["text"])
    _, sampled = train_module.load_violation_data(root, corpus.DATA_DIR, public_rows=20)
    leaked = sorted(judged - set(sampled["text"]))[0]  # judged by evaluation, outside training's sample
    fresh = "Snargles everywhere on this thread, moderators asleep again."
    path = tmp_path / "decisions.jsonl"
    path.write_text("".join(json.dumps({"split": "train", "key": str(i), "text": t, "personal_attack": 1.0}) + "\n"
                            for i, t in enumerate([leaked, fresh])))
    train_df, _ = train_module.violation_splits(root, corpus.DATA_DIR, public_rows=20, decisions=path)
    assert train_df.loc[train_df["source"] == train_module.DECISIONS_SOURCE, "text"].tolist() == [fresh]
