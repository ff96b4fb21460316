"""The retraining commands' refusals and messages: a review's findings, one test each (training.retrain)."""

from __future__ import annotations

import json

import pytest

from moderation.scorer import default_model_dir
from training import retrain
from training import train as train_module
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
