"""The model registry and the fast parts of the retraining loop: versions, LIVE, history, promotion
rules, the tolerance setting, and the export of moderators' decisions."""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import sqlite3

import numpy as np
import pytest

from moderation.persistence import sha256_file
from moderation.scorer import default_model_dir
from training import retrain
from training.compare import judge
from training.decisions import export_decisions, label_heads
from training.registry import LIVE_FILE, Registry, RegistryError, live_version_dir, registry_dir
from webhook import db

from .model_helpers import copy_version


def _copy(registry: Registry, name: str, trained_at: str) -> str:
    return copy_version(registry.version_dir(name), name, trained_at)


@pytest.fixture
def registry(tmp_path) -> Registry:
    reg = Registry(tmp_path / "registry")
    reg.init(default_model_dir(), "tester")
    return reg


def test_the_registry_folder_comes_from_the_argument_the_environment_or_the_repository(tmp_path, monkeypatch):
    monkeypatch.delenv("MODERATION_REGISTRY", raising=False)
    assert registry_dir().name == "registry"
    monkeypatch.setenv("MODERATION_REGISTRY", str(tmp_path / "env"))
    assert registry_dir() == tmp_path / "env"
    assert registry_dir(tmp_path / "given") == tmp_path / "given"


def test_init_makes_the_shipped_model_the_first_live_version_once(registry):
    first = registry.live()
    assert first and (registry.version_dir(first) / "manifest.json").is_file()
    assert registry.init(default_model_dir()) is None  # re-running changes nothing
    [event] = registry.history()
    assert event["action"] == "init" and event["to"] == first and event["from"] is None and event["user"] == "tester"
    assert registry.candidate() is None


def test_candidates_are_the_newest_versions_never_live(registry):
    a = _copy(registry, "v-a", "2030-01-01T00:00:00Z")
    b = _copy(registry, "v-b", "2030-01-02T00:00:00Z")
    assert registry.candidate() == b
    registry.set_live(b, "promote", "tester", "better")
    assert registry.candidate() == a  # never live, so still a candidate
    assert (registry.root / LIVE_FILE).read_text() == "v-b\n"
    assert not list(registry.root.glob(".LIVE.*"))  # the temporary file was renamed over LIVE


def test_rollback_walks_back_through_the_versions_that_were_live(registry):
    first = registry.live()
    for name, day in (("v-a", 1), ("v-b", 2)):
        _copy(registry, name, f"2030-01-0{day}T00:00:00Z")
        registry.set_live(name, "promote", "tester", "")
    assert registry.lineage() == [first, "v-a", "v-b"]
    assert registry.rollback("tester", "bad")["to"] == "v-a"
    assert registry.rollback("tester", "worse")["to"] == first
    with pytest.raises(RegistryError, match=f"nothing to roll back to: no version was live before {first}"):
        registry.rollback()
    actions = [e["action"] for e in registry.history()]
    assert actions == ["init", "promote", "promote", "rollback", "rollback"]


def test_a_rollback_from_a_live_file_naming_no_version_says_so(registry):
    (registry.root / LIVE_FILE).write_text("20990101-deadbeef\n")  # edited by hand
    with pytest.raises(RegistryError, match="names 20990101-deadbeef, which is not a version in .* make one live"):
        registry.rollback()


def test_a_rollback_from_a_live_file_edited_to_another_version_refuses_rather_than_skip_one(registry):
    first = registry.live()
    for name, day in (("v-a", 1), ("v-b", 2)):
        _copy(registry, name, f"2030-01-0{day}T00:00:00Z")
    registry.set_live("v-a", "promote", "tester", "")
    (registry.root / LIVE_FILE).write_text("v-b\n")  # edited by hand: the history's last live version is v-a
    with pytest.raises(RegistryError, match="names v-b, but the history's last live version is v-a"):
        registry.rollback()
    assert registry.live() == "v-b" and registry.lineage() == [first, "v-a"], "nothing changed"


def test_a_version_that_fails_its_checks_never_goes_live(registry):
    bad = _copy(registry, "v-bad", "2030-01-01T00:00:00Z")
    (registry.version_dir(bad) / "stance.skops").write_bytes(b"tampered")
    before = registry.live()
    with pytest.raises(RegistryError, match="fails its checks"):
        registry.set_live(bad, "override", "tester", "forced")
    assert registry.live() == before and len(registry.history()) == 1
    with pytest.raises(RegistryError, match="not a version name"):
        registry.version_dir("../escape")


def test_a_renamed_copy_of_a_version_cannot_go_live(registry):
    _copy(registry, "v-b", "2030-01-01T00:00:00Z")
    shutil.copytree(registry.version_dir("v-b"), registry.version_dir("v-b-fix"))  # manifest still says v-b
    with pytest.raises(RegistryError, match="v-b-fix fails its checks .* holds model v-b .* workers would refuse it"):
        registry.set_live("v-b-fix", "override", "tester", "hand copy")
    assert registry.live() != "v-b-fix" and len(registry.history()) == 1


def test_a_version_whose_arrays_do_not_fit_together_never_goes_live(registry):
    bad = _copy(registry, "v-swap", "2030-01-01T00:00:00Z")
    folder = registry.version_dir(bad)
    manifest = json.loads((folder / "manifest.json").read_text())
    # Arrays that match their hash but not each other: the IDF vector cut short.
    arrays = dict(np.load(folder / "scoring.npz", allow_pickle=False))
    np.savez_compressed(folder / "scoring.npz", **{**arrays, "idf": arrays["idf"][:10]})
    manifest["files"]["scoring.npz"].update(sha256=sha256_file(folder / "scoring.npz"),
                                            bytes=(folder / "scoring.npz").stat().st_size)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RegistryError, match=r"v-swap fails its checks .* idf has shape \(10,\)"):
        registry.set_live(bad, "override", "tester", "forced")
    assert len(registry.history()) == 1


@pytest.mark.parametrize("line,message", [('{"action": "promote", "to": "v-', "line 2 is not a JSON record"),
                                          ("[1, 2]", "line 2 is not a registry event")])
def test_a_torn_history_line_is_named(registry, capsys, line, message):
    with (registry.root / "history.jsonl").open("a") as fh:
        fh.write(line + "\n")
    with pytest.raises(RegistryError, match=message):
        registry.rollback()
    assert _run(registry, "rollback") == 1 and message in capsys.readouterr().out


@pytest.mark.parametrize("manifest,message", [({"files": {}}, "names no model_version"),
                                              ({"files": {}, "model_version": "../up"}, "not a version name")])
def test_adding_a_model_whose_manifest_names_no_usable_version_is_refused(registry, tmp_path, manifest, message):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RegistryError, match=message):
        registry.add(tmp_path / "m")


@pytest.mark.parametrize("live", ["../x", "/etc", ".hidden", "a/b"])
def test_a_live_file_naming_a_path_is_refused(registry, live):
    (registry.root / LIVE_FILE).write_text(live + "\n")
    with pytest.raises(RegistryError, match="not a version name"):
        live_version_dir(registry.root)


def _run(registry, *args) -> int:
    return retrain.main(["--registry", str(registry.root), "--user", "tester", *args])


def _comparison(registry, version, gates):
    folder = registry.version_dir(version) / "evaluation"
    folder.mkdir(parents=True)
    (folder / "comparison.json").write_text(json.dumps({"live": registry.live(), "candidate": version,
                                                        "gates": gates}))


_WORSE = {"set": "corpus test", "label": "incitement", "metric": "f1", "live": 0.8, "candidate": 0.7,
          "delta": -0.1, "delta_upper95": -0.05}
_NOISE = {"set": "corpus test", "label": "threat", "metric": "f1", "live": 0.8, "candidate": 0.7,
          "delta": -0.1, "delta_upper95": 0.02}
_BETTER = {"set": "held-out decisions", "label": "personal_attack", "metric": "f1", "live": 0.4,
           "candidate": 0.9, "delta": 0.5, "delta_upper95": None}


def test_promote_needs_an_evaluation_and_refuses_a_worse_candidate(registry, capsys):
    live = registry.live()
    cand = _copy(registry, "v-c", "2030-01-01T00:00:00Z")
    assert _run(registry, "promote") == 2 and "make evaluate" in capsys.readouterr().out
    _comparison(registry, cand, [_WORSE, _NOISE, _BETTER])
    assert _run(registry, "promote") == 1
    out = capsys.readouterr().out
    assert "NOT PROMOTED" in out and "incitement" in out and "threat" not in out
    assert registry.live() == live
    assert _run(registry, "promote", "--force") == 2  # an override needs a reason
    assert _run(registry, "promote", "--force", "--reason", "site asked for it") == 0
    event = registry.history()[-1]
    assert (event["action"], event["to"], event["reason"], event["user"]) == ("override", cand, "site asked for it",
                                                                             "tester")
    assert "incitement" in event["detail"]["worse"][0]


def test_promote_goes_ahead_when_only_noise_or_gains(registry):
    cand = _copy(registry, "v-d", "2030-01-01T00:00:00Z")
    _comparison(registry, cand, [_NOISE, _BETTER])
    assert _run(registry, "promote") == 0
    assert registry.live() == cand and registry.history()[-1]["action"] == "promote"


def test_a_candidate_evaluated_against_another_live_version_is_evaluated_again(registry, capsys):
    cand = _copy(registry, "v-e", "2030-01-01T00:00:00Z")
    _comparison(registry, cand, [_BETTER])
    other = _copy(registry, "v-f", "2029-01-01T00:00:00Z")
    registry.set_live(other, "promote", "tester", "")
    assert _run(registry, "promote", "--version", cand) == 2 and "again" in capsys.readouterr().out


def test_a_tampered_or_missing_version_is_refused_by_evaluate_and_promote_with_a_message(registry, capsys):
    bad = _copy(registry, "v-bad", "2030-01-01T00:00:00Z")
    (registry.version_dir(bad) / "violation.skops").write_bytes(b"tampered")
    assert _run(registry, "evaluate", "--version", bad) == 2
    out = capsys.readouterr().out
    assert out.startswith("error:") and "violation.skops" in out and "Traceback" not in out
    for command in ("evaluate", "promote"):
        assert _run(registry, command, "--version", "nope") == 2
        assert "no version 'nope'" in capsys.readouterr().out


def test_user_may_follow_the_command_and_rollback_says_why_it_cannot(registry, capsys):
    assert retrain.main(["--registry", str(registry.root), "rollback", "--user", "ana"]) == 1
    assert f"no version was live before {registry.live()}" in capsys.readouterr().out
    _copy(registry, "v-a", "2030-01-01T00:00:00Z")
    registry.set_live("v-a", "promote", "tester", "")
    assert retrain.main(["--registry", str(registry.root), "rollback", "--user", "ana", "--reason", "r"]) == 0
    assert registry.history()[-1]["user"] == "ana"


@pytest.mark.parametrize("value", ["abc", "-0.1", "2"])
def test_a_bad_tolerance_setting_is_an_error_naming_it(registry, monkeypatch, capsys, value):
    monkeypatch.setenv("MODERATION_PROMOTE_TOLERANCE", value)
    with pytest.raises(RegistryError, match="MODERATION_PROMOTE_TOLERANCE must be a number from 0 to 1"):
        retrain.promote_tolerance(registry)


def test_the_tolerance_comes_from_the_environment_then_the_settings_file(registry, monkeypatch):
    monkeypatch.delenv("MODERATION_PROMOTE_TOLERANCE", raising=False)
    assert retrain.promote_tolerance(registry) == 0.01
    (registry.root / "settings.toml").write_text("[promote]\ntolerance = 0.02\n")
    assert retrain.promote_tolerance(registry) == 0.02
    monkeypatch.setenv("MODERATION_PROMOTE_TOLERANCE", "0.2")
    assert retrain.promote_tolerance(registry) == 0.2
    assert judge([_WORSE], 0.2)["promotable"] and not judge([_WORSE], 0.01)["promotable"]


@pytest.mark.parametrize("label,value,provenance,expected", [
    ("personal_attack", 0.9, None, {"personal_attack": 1.0}),
    ("profanity", 0.2, None, {"profanity": 0.0}),
    ("threat", 0.7, None, {"threat": 1.0, "incitement": 1.0}),
    ("moderator_decision", 1.0, {"code": "ABUSIVE"}, {"toxicity": 1.0, "personal_attack": 1.0}),
    ("moderator_decision", 1.0, {"code": "HATE_SPEECH"}, {"toxicity": 1.0, "incitement": 1.0}),
    ("moderator_decision", 1.0, {"rejectionReason": {"code": "OFFENSIVE"}}, {"toxicity": 1.0, "profanity": 1.0}),
    # An advert is removed for what it sells: spam, not abuse.
    ("moderator_decision", 1.0, {"code": "SPAM"}, {"spam": 1.0}),
    ("moderator_decision", 1.0, {"code": "AD"}, {"spam": 1.0}),
    ("moderator_decision", 1.0, {"status": "REJECTED"}, {"toxicity": 1.0}),
    # Off topic, misinformation and the like name no abuse: such a rejection teaches no head.
    ("moderator_decision", 1.0, {"code": "IRRELEVANT_CONTENT"}, {}),
    ("moderator_decision", 1.0, {"code": "MISINFORMATION"}, {}),
    ("moderator_decision", 1.0, {"code": "OTHER"}, {}),
    ("moderator_decision", 0.0, {}, {h: 0.0 for h in ("profanity", "personal_attack", "incitement", "threat",
                                                       "identity_attack", "toxicity", "spam")}),
    # Approved, but the moderator says it is still profanity, which the site allows: the label stands.
    ("moderator_decision", 0.0, {"allowed": ["profanity"]}, {"profanity": 1.0, "toxicity": 1.0, "personal_attack": 0.0,
                                                             "incitement": 0.0, "threat": 0.0, "identity_attack": 0.0,
                                                             "spam": 0.0}),
    # An allowed incitement says nothing of which half (threat, identity attack); an unknown label is ignored.
    ("moderator_decision", 0.0, {"allowed": ["incitement", "sarcasm"]},
     {"profanity": 0.0, "personal_attack": 0.0, "incitement": 1.0, "toxicity": 1.0, "spam": 0.0}),
    ("severe_toxicity", 0.9, None, {}),
    ("spam", 1.0, None, {"spam": 1.0}),
    ("spam", 0.1, None, {"spam": 0.0}),
])
def test_stored_labels_become_head_values(label, value, provenance, expected):
    assert label_heads(label, value, provenance) == expected


def test_the_export_merges_by_normalised_text_holds_out_the_newest_and_reports(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'm.sqlite'}")
    db.migrate(engine)
    with db.transaction(engine) as conn:
        pk = db.save_comment(conn, "s", "c-stored", "Stored text, you fool.", None, None, None, "api")
        assert pk
        rows = [("s", "c1", "You utter snargle.", "personal_attack", 1.0, "perspective:suggestscore"),
                ("s", "c2", "YOU UTTER SNARGLE.", "personal_attack", 0.0, "perspective:suggestscore"),  # later wins
                ("s", "c-stored", None, "moderator_decision", 1.0, "review"),  # text from the comments table
                ("s", "coral:123", None, "moderator_decision", 1.0, "coral:COMMENT_LEFT_MODERATION_QUEUE"),
                ("s", "c4", "A fine point about the harbour.", "moderator_decision", 0.0, "review"),
                ("s", "c5", "Whatever.", "spam", 1.0, "review")]
        for site, ref, text, label, value, source in rows:
            db.insert_label(conn, site, ref, text, label, value, source, {"code": "ABUSIVE"})
    report = export_decisions(engine, tmp_path / "out", check_public=False, data_dir=None)
    engine.dispose()
    exported = [json.loads(line) for line in (tmp_path / "out" / "decisions.jsonl").read_text().splitlines()]
    assert report.label_rows == 6 and report.rows == 4 == len(exported)
    assert report.duplicates == 1 and report.conflicts == 1
    assert sum(report.no_text.values()) == 1 and not report.not_used  # "spam" is a head the model learns
    assert any(r["text"] == "Whatever." and r["spam"] == 1.0 and r["toxicity"] is None for r in exported)
    snargle = next(r for r in exported if "snargle" in r["text"].lower())
    assert snargle["personal_attack"] == 0.0 and snargle["profanity"] is None
    assert any(r["text"] == "Stored text, you fool." and r["personal_attack"] == 1.0 for r in exported)
    held = [r for r in exported if r["split"] == "heldout"]
    assert len(held) == math.ceil(4 * 0.2) and held[0] == exported[-1]
    text = (tmp_path / "out" / "REPORT.md").read_text()
    assert "training rows written: 4 (3 train, 1 held out" in text and "| review | 3 | 0 |" in text
    assert "project corpus (data/)" in text


def test_make_data_says_so_when_there_is_no_database(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MODERATION_DATABASE_URL", raising=False)
    monkeypatch.setattr(retrain, "_REPO", tmp_path)
    assert retrain.main(["--registry", str(tmp_path / "r"), "data"]) == 0
    assert "no database" in capsys.readouterr().out


def test_make_data_refuses_a_database_url_naming_no_file_or_no_service_tables(tmp_path, capsys):
    missing = tmp_path / "nope.sqlite"
    assert retrain.main(["--registry", str(tmp_path / "r"), "data", "--database", f"sqlite:///{missing}"]) == 2
    assert "no database at" in capsys.readouterr().out and not missing.exists(), "nothing created"
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).close()  # a database, but not the service's
    assert retrain.main(["--registry", str(tmp_path / "r"), "data", "--database", f"sqlite:///{other}"]) == 2
    out = capsys.readouterr().out
    assert "could not read the moderators' decisions" in out and "Traceback" not in out


def test_a_registry_that_is_a_file_is_an_error(tmp_path, capsys):
    (tmp_path / "reg").write_text("not a folder")
    assert retrain.main(["--registry", str(tmp_path / "reg"), "status"]) == 2
    assert capsys.readouterr().out.startswith("error:")


def test_judging_counts_only_drops_beyond_tolerance_and_noise():
    verdict = judge([_WORSE, _NOISE, _BETTER], 0.01)
    assert not verdict["promotable"] and verdict["worse_labels"] == ["incitement"]
    assert np.isclose(verdict["tolerance"], 0.01)


@pytest.mark.parametrize(("lost", "won", "worse"), [(1, 0, True), (2, 0, True), (2, 1, True), (1, 1, False),
                                                   (0, 0, False)])
def test_behaviour_cases_newly_failed_are_worse_however_few(lost, won, worse):
    """A bootstrap over 24 cases calls the loss of two "within noise" (its bound is exactly 0): the hand-written
    cases are judged as they are."""
    import pandas as pd

    from training.compare import EvalSet, gates

    cases = pd.DataFrame({"label": ["threat"] * 24})
    live = np.array([True] * (24 - won) + [False] * won)
    cand = live.copy()
    cand[:lost] = False
    cand[24 - won:] = True
    models = [{"behaviour": {"pass_rate": {"threat": float(passed.mean())}, "_passed": passed}} for passed in (live, cand)]
    (gate,) = gates([EvalSet("behaviour", "behaviour", cases)], *models, tolerance=0.01)
    assert gate["worse"] is worse and judge([gate], 0.01)["promotable"] is not worse


def test_a_model_version_changes_with_the_training_code_not_only_the_data(tmp_path, monkeypatch):
    from training import train

    data = tmp_path / "no-datasets"
    first = train.model_version(data, public_rows=0)
    assert train.model_version(data, public_rows=0) == first, "same data, same code: same version"
    monkeypatch.setattr(train, "code_hash", lambda: "a changed label mapping")
    assert train.model_version(data, public_rows=0) != first


def test_the_comparison_names_heads_only_the_candidate_has():
    from training.compare import _report

    result = {"candidate": "new", "live": "old", "evaluated_at": "2026-12-07T03:00:00Z", "tolerance": 0.01,
              "gates": [], "verdict": {"promotable": True, "tolerance": 0.01, "worse": []}, "new_heads": ["spam"]}
    text = _report(result, [], {}, {}, ["comparison.png"])
    assert "Heads only the candidate has, so no gate compares them" in text and ": spam." in text
    assert "Heads only" not in _report({**result, "new_heads": []}, [], {}, {}, ["comparison.png"])


def test_a_candidate_that_lost_a_head_is_not_promotable_and_a_new_head_is_named():
    from training.compare import head_gates, new_heads

    with_spam = ("profanity", "personal_attack", "incitement", "spam")
    without = with_spam[:3]
    lost = head_gates(with_spam, without)
    assert [g["label"] for g in lost] == ["spam"]
    assert not judge(lost, 0.5)["promotable"] and judge(lost, 0.5)["worse_labels"] == ["spam"]
    assert head_gates(without, with_spam) == [] and head_gates(with_spam, with_spam) == []
    assert new_heads(without, with_spam) == ["spam"] and new_heads(with_spam, without) == []


def test_a_moderator_s_later_decision_replaces_the_earlier_one_whole(tmp_path):
    """Rejected as ABUSIVE, then recoded as SPAM: the export says spam, not spam and a personal attack; feedback
    that is no decision (a suggested score) is kept; the rows of one decision are read together."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'm.sqlite'}")
    db.migrate(engine)
    text = "Harbour flats from 99k, call 0800 now"
    first, second = {"code": "ABUSIVE", "review_item": 7}, {"code": "SPAM", "review_item": 7, "moderator": "ana"}
    rows = [("moderator_decision", 1.0, "review", first), ("personal_attack", 1.0, "review", first),
            ("profanity", 1.0, "perspective:suggestscore", {}),
            ("moderator_decision", 1.0, "review", second), ("spam", 1.0, "review", second)]
    with db.transaction(engine) as conn:
        for label, value, source, provenance in rows:
            db.insert_label(conn, "s", "c9", text, label, value, source, provenance)
    export_decisions(engine, tmp_path / "out", check_public=False, data_dir=None)
    engine.dispose()
    [row] = [json.loads(line) for line in (tmp_path / "out" / "decisions.jsonl").read_text().splitlines()]
    assert row["spam"] == 1.0 and row["profanity"] == 1.0
    assert row["personal_attack"] is None and row["toxicity"] is None


@pytest.mark.parametrize("feedback", [False, True])
def test_a_rejection_recoded_as_off_topic_takes_the_abuse_labels_back(tmp_path, feedback):
    """Rejected as ABUSIVE, then recoded as off topic: the text is no longer exported as a personal attack (and,
    with no other label, not at all); a suggested score stored meanwhile is kept."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'm.sqlite'}")
    db.migrate(engine)
    text = "Nothing to do with the article, but has anyone seen my cat?"
    first, second = {"code": "ABUSIVE", "review_item": 7}, {"code": "IRRELEVANT_CONTENT", "review_item": 7, "m": 2}
    rows = [("moderator_decision", 1.0, "review", first), ("personal_attack", 1.0, "review", first),
            *([("profanity", 0.0, "perspective:suggestscore", {})] if feedback else []),
            ("moderator_decision", 1.0, "review", second)]
    with db.transaction(engine) as conn:
        for label, value, source, provenance in rows:
            db.insert_label(conn, "s", "c9", text, label, value, source, provenance)
    report = export_decisions(engine, tmp_path / "out", check_public=False, data_dir=None)
    engine.dispose()
    exported = [json.loads(line) for line in (tmp_path / "out" / "decisions.jsonl").read_text().splitlines()]
    if feedback:
        [row] = exported
        assert row["profanity"] == 0.0 and row["personal_attack"] is None and row["toxicity"] is None
    else:
        assert exported == [] and report.not_used["decisions whose reason names no abuse"] == 1


def test_two_decisions_written_at_the_same_moment_are_read_apart_not_interleaved(tmp_path):
    """PostgreSQL does not serialise two moderators' decisions on two comments with the same text: their rows can
    interleave in time. Each decision is read whole where its first row is, so the later one wins whole."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'm.sqlite'}")
    db.migrate(engine)
    text = "Cheap watches, 80% off at bestdealz dot biz"
    approve = {"review_item": 1, "decided_at": "2026-12-07T04:00:00.000001"}
    spam = {"review_item": 2, "code": "SPAM", "decided_at": "2026-12-07T04:00:00.000002"}
    rows = [("moderator_decision", 0.0, approve), ("moderator_decision", 1.0, spam), ("profanity", 0.0, approve),
            ("spam", 1.0, spam), ("personal_attack", 0.0, approve), ("incitement", 0.0, approve)]
    with db.transaction(engine) as conn:
        for label, value, provenance in rows:
            db.insert_label(conn, "s", f"c{provenance['review_item']}", text, label, value, "review", provenance)
    export_decisions(engine, tmp_path / "out", check_public=False, data_dir=None)
    engine.dispose()
    [row] = [json.loads(line) for line in (tmp_path / "out" / "decisions.jsonl").read_text().splitlines()]
    assert row["spam"] == 1.0 and row["personal_attack"] is None and row["incitement"] is None



# The history line is written before LIVE -------------------------------------------------------------------
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full to fill the disk")
def test_a_change_the_history_cannot_record_leaves_live_as_it_was(registry, capsys):
    """A full disk when the history line is written: nothing goes live, and the error says so (LIVE was replaced
    first, so the candidate was live while the command reported an error and rollback had no record of it)."""
    first = registry.live()
    cand = _copy(registry, "v-c", "2030-01-01T00:00:00Z")
    _comparison(registry, cand, [_BETTER])
    history = registry.root / "history.jsonl"
    kept = history.read_bytes()
    history.unlink()
    history.symlink_to("/dev/full")  # every write fails: No space left on device
    with pytest.raises(RegistryError, match="could not record the change in .*history.jsonl .*LIVE was not changed"):
        registry.set_live(cand, "promote", "tester", "")
    assert registry.live() == first
    assert _run(registry, "promote") == 2
    out = capsys.readouterr().out
    assert out.startswith("NOT PROMOTED: could not record") and f"live is still {first}" in out
    assert registry.live() == first
    history.unlink()
    history.write_bytes(kept)
    assert registry.lineage() == [first] and registry.candidate() == cand


def test_a_change_whose_live_file_was_never_written_is_read_as_not_applied(registry, monkeypatch, capsys):
    """The history line is on disk, then LIVE cannot be replaced (or the process dies between the two): the line
    stays, and rollback, the candidate, the service's fallback and status read it as a change that never happened."""
    import training.registry as registry_module

    first = registry.live()
    cand = _copy(registry, "v-c", "2030-01-01T00:00:00Z")
    _comparison(registry, cand, [_BETTER])
    real = registry_module.write_atomic

    def disk_full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(registry_module, "write_atomic", disk_full)
    assert _run(registry, "promote") == 2
    out = capsys.readouterr().out
    assert out.startswith("NOT PROMOTED: could not write") and f"live is still {first}" in out
    assert [e["action"] for e in registry.history()] == ["init", "promote"]  # the attempt is recorded
    assert registry.live() == first and registry.lineage() == [first] and registry.candidate() == cand
    assert _run(registry, "status") == 0
    assert f"promote  {first} -> {cand} by tester: passed evaluation (not applied" in capsys.readouterr().out
    assert _run(registry, "rollback") == 1
    assert f"no version was live before {first}" in capsys.readouterr().out

    monkeypatch.setattr(registry_module, "write_atomic", real)
    assert _run(registry, "promote") == 0 and registry.live() == cand
    assert registry.lineage() == [first, cand] and registry.candidate() is None
    assert _run(registry, "status") == 0
    out = capsys.readouterr().out
    assert out.count("(not applied") == 1, "only the attempt whose LIVE was never written"
    assert registry.rollback("tester", "worse")["to"] == first and registry.lineage() == [first]


def test_a_lost_live_file_is_not_mistaken_for_a_change_that_never_happened(registry):
    first = registry.live()
    (registry.root / LIVE_FILE).unlink()
    assert registry.lineage() == [first]
    with pytest.raises(RegistryError, match=f"LIVE is missing or empty, but .* says {first} is live"):
        registry.init(default_model_dir())
    assert registry.live() is None and len(registry.history()) == 1


def test_an_interrupted_export_leaves_the_earlier_one_whole(tmp_path, monkeypatch):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'm.sqlite'}")
    db.migrate(engine)
    with db.transaction(engine) as conn:
        db.insert_label(conn, "s", "c1", "You utter snargle.", "moderator_decision", 1.0, "review", {"code": "ABUSIVE"})
    export_decisions(engine, tmp_path / "out", check_public=False, data_dir=None)
    earlier = (tmp_path / "out" / "decisions.jsonl").read_bytes()
    with db.transaction(engine) as conn:
        db.insert_label(conn, "s", "c2", "Snargles again.", "moderator_decision", 1.0, "review", {"code": "ABUSIVE"})

    def interrupted(_fd):
        raise KeyboardInterrupt  # Ctrl-C while the new export is being written

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        export_decisions(engine, tmp_path / "out", check_public=False, data_dir=None)
    monkeypatch.undo()
    engine.dispose()
    assert (tmp_path / "out" / "decisions.jsonl").read_bytes() == earlier
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["REPORT.md", "decisions.jsonl"]
