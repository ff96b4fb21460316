"""The policy engine: thresholds, clause citations, unscorable comments, author rules, bad files."""

import json
import re
import tomllib
from pathlib import Path

import pytest

from moderation.cli import main
from moderation.errors import PolicyError
from moderation.policy import AuthorState, load_policy, parse_policy
from moderation.scorer import Evidence, Score

POLICY_FILE = Path(__file__).resolve().parent.parent / "data" / "policy.toml"


@pytest.fixture(scope="module")
def policy():
    return load_policy(POLICY_FILE)


def _score(language="en", empty=False, **scores):
    base = {"profanity": 0.01, "personal_attack": 0.01, "incitement": 0.01, "threat": 0.0,
            "identity_attack": 0.0, "toxicity": 0.02}
    return Score(scores={**base, **scores}, language=language, language_confidence=1.0, empty=empty)


@pytest.mark.parametrize("scores,action,clause", [
    ({}, "approve", None),
    ({"profanity": 0.5}, "hold", "no-profanity"),
    ({"profanity": 0.9}, "reject", "no-profanity"),
    ({"personal_attack": 0.45}, "hold", "no-personal-attacks"),
    ({"personal_attack": 0.95}, "reject", "no-personal-attacks"),
    ({"incitement": 0.8}, "reject", "no-threats-or-hate"),
    ({"profanity": 0.5, "incitement": 0.9}, "reject", "no-threats-or-hate"),
    ({"spam": 0.6}, "hold", "no-spam"),
    ({"spam": 0.99}, "reject", "no-spam"),
])
def test_thresholds_decide_and_cite_the_clause(policy, scores, action, clause):
    verdict = policy.decide(_score(**scores))
    assert verdict.action == action
    if clause:
        cited = [r for r in verdict.reasons if r.action == action]
        assert cited and cited[0].clause_id == clause
        assert cited[0].clause_text == policy.clause_for(cited[0].label).text
        assert cited[0].score >= cited[0].threshold
    else:
        assert verdict.reasons == []


def test_reasons_carry_rejection_codes_and_evidence(policy):
    evidence = [Evidence("personal_attack", 30, 35, "moron", 1.2)]
    verdict = policy.decide(_score(personal_attack=0.97), evidence)
    reason = verdict.reasons[0]
    assert reason.code == "ABUSIVE"
    assert reason.evidence[0]["begin"] == 30 and reason.evidence[0]["text"] == "moron"
    assert verdict.as_dict()["policy_version"] == "example-news@2026-12-07.2"


def test_a_spam_rejection_carries_the_spam_code_and_a_model_without_the_head_never_fires_it(policy):
    assert policy.decide(_score(spam=0.99)).reasons[0].code == "SPAM"
    assert policy.decide(_score()).action == "approve"  # scores of a model trained before the spam head


def _sub_label_policy(tmp_path) -> Path:
    text = POLICY_FILE.read_text().replace('labels = ["incitement"]', 'labels = ["incitement", "threat"]')
    text += '\n[[clause]]\nid = "no-toxicity"\ntext = "Keep it civil."\nlabels = ["toxicity", "identity_attack"]\n' \
            'hold_at = 0.5\nreject_at = 0.99\n'
    path = tmp_path / "policy.toml"
    path.write_text(text)
    return path


def test_clauses_on_sub_labels_carry_incitement_s_code_and_the_labels_they_want(tmp_path):
    policy = load_policy(_sub_label_policy(tmp_path))
    assert policy.labels == ("profanity", "personal_attack", "incitement", "threat", "spam", "toxicity", "identity_attack")
    verdict = policy.decide(_score(threat=0.9, toxicity=0.6, identity_attack=0.6))
    codes = {r.label: r.code for r in verdict.reasons}
    assert codes == {"threat": "HATE_SPEECH", "toxicity": "OTHER", "identity_attack": "HATE_SPEECH"}


def test_a_verdict_on_a_sub_label_cites_its_evidence(tmp_path):
    comments = tmp_path / "c.jsonl"
    comments.write_text(json.dumps({"id": "t", "text": "I will kill you tonight"}) + "\n")
    out = tmp_path / "out.jsonl"
    assert main(["score", "--input", str(comments), "--policy", str(_sub_label_policy(tmp_path)),
                 "--output", str(out)]) == 0
    reasons = {r["label"]: r for r in json.loads(out.read_text())["reasons"]}
    assert reasons["threat"]["code"] == "HATE_SPEECH" and reasons["threat"]["action"] == "reject"
    assert any("kill" in e["text"] for e in reasons["threat"]["evidence"]), reasons["threat"]
    assert reasons["toxicity"]["evidence"], reasons["toxicity"]


def test_non_english_and_empty_follow_the_unscorable_rules(policy):
    assert policy.decide(_score(language="de", profanity=0.99)).action == "hold"
    assert policy.decide(_score(empty=True)).action == "reject"
    assert policy.fallback("error").action == "hold"


@pytest.mark.parametrize("rule,action,fallback", [(None, "hold", "no_words"), ("approve", "approve", "no_words"),
                                                   ("reject", "reject", "no_words"), ("score", "approve", None)])
def test_comments_without_words_follow_their_own_rule(rule, action, fallback):
    data = tomllib.loads(POLICY_FILE.read_text())
    data["unscorable"].pop("no_words", None)
    if rule:
        data["unscorable"]["no_words"] = rule
    policy = parse_policy(data)
    emoji = _score(language="und")
    assert policy.decide(emoji).action == action and policy.unscorable_kind(emoji) == fallback
    if rule == "score":  # judged by its scores like any comment
        assert policy.decide(_score(language="und", profanity=0.9)).action == "reject"
    # a comment in another language still follows non_english, whatever no_words says
    assert policy.decide(_score(language="de")).action == "hold"


@pytest.mark.parametrize("author,action", [
    (AuthorState(strikes=0), "approve"),
    (AuthorState(strikes=3), "hold"),
    (AuthorState(strikes=6), "reject"),
    (AuthorState(status="blocked"), "reject"),
    (AuthorState(status="premod"), "hold"),
])
def test_author_rules(policy, author, action):
    assert policy.decide(_score(), author=author).action == action


@pytest.mark.parametrize("patch,message", [
    ({"clause": []}, "no [[clause]]"),
    ({"clause": [{"id": "x", "text": "t", "labels": ["profanity"], "hold_at": 0.9, "reject_at": 0.5}]}, "must not exceed"),
    ({"clause": [{"id": "x", "text": "t", "labels": ["spamminess"], "hold_at": 0.1, "reject_at": 0.5}]}, "unknown labels"),
    ({"clause": [{"id": "x", "text": "t", "labels": ["profanity"], "hold_at": "high", "reject_at": 0.5}]}, "hold_at"),
    ({"unscorable": {"empty": "delete"}}, "[unscorable] empty"),
    ({"unscorable": {"no_words": "ignore"}},
     "[unscorable] no_words must be one of .'approve', 'hold', 'reject', 'score'., got 'ignore'"),
    ({"unscorable": {"non-english": "approve"}}, "[unscorable] has no setting 'non-english'"),
    ({"unscorable": {"non_english": "score"}}, "[unscorable] non_english must be one of"),
    # A misspelt table or key would be read as absent, its default deciding verdicts without a word.
    ({"unscoreable": {"empty": "reject"}}, "the policy's top level has no setting 'unscoreable'"),
    ({"clause": [{"id": "x", "text": "t", "labels": ["profanity", "personal_attack", "incitement"], "hold_at": 0.4,
                  "rejekt_at": 0.8}]}, "clause 1 .x. has no setting 'rejekt_at'"),
    ({"authors": {"premod_afer": 2}}, "[authors] has no setting 'premod_afer'"),
    # A label in two clauses gets a reason from each; twice in one, two alike; none, a clause that never acts.
    ({"clause": [{"id": "x", "text": "t", "labels": ["profanity", "personal_attack", "incitement"], "hold_at": 0.4,
                  "reject_at": 0.8}, {"id": "y", "text": "u", "labels": ["spam", "profanity"], "hold_at": 0.5,
                                      "reject_at": 0.9}]},
     "label 'profanity' is in clause 'x' and clause 'y': a label belongs to one clause"),
    ({"clause": [{"id": "x", "text": "t", "labels": ["profanity", "personal_attack", "incitement", "profanity"],
                  "hold_at": 0.4, "reject_at": 0.8}]}, "clause 1 .x.: label 'profanity' is listed twice"),
    ({"clause": [{"id": "x", "text": "t", "labels": [], "hold_at": 0.4, "reject_at": 0.8}]}, "clause 1 .x.: labels must be"),
    # A verdict cites a clause by id and in its words: empty ones cite nothing, shared ids are ambiguous.
    ({"clause": [{"id": "x", "text": "  ", "labels": ["profanity", "personal_attack", "incitement"], "hold_at": 0.4,
                  "reject_at": 0.8}]}, "clause 1 .x.: text is empty"),
    ({"clause": [{"id": "", "text": "t", "labels": ["profanity", "personal_attack", "incitement"], "hold_at": 0.4,
                  "reject_at": 0.8}]}, "clause 1 ..: id is empty"),
    ({"id": ""}, "policy: id is empty"),
    ({"version": " "}, "policy: version is empty"),
    ({"intro": 5}, "policy: intro must be a string, got 5"),
    ({"authors": {"clause": "no-profanity"}}, "[authors] clause 'no-profanity' is the id of [[clause]] 'no-profanity'"),
    ({"unscorable": {"clause": "repeat-offenders"}, "authors": {"clause": "repeat-offenders"}},
     "[authors] clause 'repeat-offenders' is the id of [unscorable]'s clause"),
    ({"unscorable": {"text": ""}}, "[unscorable]: text is empty"),
    # A code the language identifier never reports would hold every comment as not in the site's language.
    ({"languages": ["EN"]}, "languages: 'EN' is not a code the language identifier reports; it reports en, es"),
    ({"languages": ["en", "english"]}, "languages: 'english' is not a code"),
])
def test_bad_policies_are_refused_with_a_reason(policy, patch, message):
    data = {**tomllib.loads(POLICY_FILE.read_text()), **patch}
    with pytest.raises(PolicyError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_policy(data)


def test_missing_or_broken_file(tmp_path):
    with pytest.raises(PolicyError, match="not found"):
        load_policy(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("id = [unclosed")
    with pytest.raises(PolicyError, match="not valid TOML"):
        load_policy(bad)


_CLAUSE = 'id = "a"\ntext = "t"\nlabels = ["profanity", "personal_attack", "incitement"]\nhold_at = 0.4\nreject_at = 0.8\n'


@pytest.mark.parametrize("toml,message", [
    ('id = "x"\nversion = "1"\nclause = "abc"\n', "'clause' must be an array of [[clause]] tables, got 'abc'"),
    ('id = "x"\nversion = "1"\nclause = [1, 2]\n', "'clause' must be an array of [[clause]] tables, got [1, 2]"),
    ('id = "x"\nversion = "1"\n[[clause]]\n' + _CLAUSE.replace('labels = ["profanity", "personal_attack", "incitement"]',
                                                              "labels = 5"), "clause 1 (a): labels must be"),
    ('id = "x"\nversion = "1"\n[[clause]]\n' + _CLAUSE.replace("hold_at = 0.4", "hold_at = true"), "hold_at must be a number"),
    ('id = "x"\nversion = "1"\n[[clause]]\n' + _CLAUSE.replace("reject_at = 0.8", "reject_at = false"), "reject_at must be"),
    ('id = "x"\nversion = "1"\n[[clause]]\n' + _CLAUSE.replace("reject_at = 0.8\n", ""),
     "clause 1 (a): missing 'reject_at' (a number between 0 and 1)"),
    ('unscorable = "x"\nid = "x"\nversion = "1"\n[[clause]]\n' + _CLAUSE, "'unscorable' must be a table"),
    ('authors = 3\nid = "x"\nversion = "1"\n[[clause]]\n' + _CLAUSE, "'authors' must be a table"),
    ('id = "x"\nversion = "1"\n[authors]\npremod_after = true\n[[clause]]\n' + _CLAUSE, "premod_after must be a positive"),
    ('languages = "en"\nid = "x"\nversion = "1"\n[[clause]]\n' + _CLAUSE, "languages must be a list of language codes"),
    ('languages = []\nid = "x"\nversion = "1"\n[[clause]]\n' + _CLAUSE, "languages must be a list of language codes"),
    ('languages = ["en", 5]\nid = "x"\nversion = "1"\n[[clause]]\n' + _CLAUSE, "languages must be a list of language codes"),
    ('id = "x"\nversion = "1"\n[[clause]]\n' + _CLAUSE.replace('id = "a"', "id = {name = \"a\"}"),
     "clause 1 ({'name': 'a'}): id must be a string, got {'name': 'a'}"),
    ('id = "x"\nversion = "1"\n[[clause]]\n' + _CLAUSE.replace('id = "a"', "id = [1, 2]"), "id must be a string, got [1, 2]"),
    ('id = "x"\nversion = "1"\n[[clause]]\n' + _CLAUSE.replace('id = "a"', "id = 7"), "clause 1 (7): id must be a string, got 7"),
    ('id = "x"\nversion = "1"\n[[clause]]\n' + _CLAUSE.replace('text = "t"', "text = 1.5"),
     "clause 1 (a): text must be a string, got 1.5"),
    ('id = "x"\nversion = "1"\n[[clause]]\n' + _CLAUSE.replace('text = "t"', "text = true"),
     "clause 1 (a): text must be a string, got True"),
    ('id = "x"\nversion = "1"\n[[clause]]\n' + _CLAUSE.replace('text = "t"', "text = {en = \"t\"}"),
     "clause 1 (a): text must be a string, got {'en': 't'}"),
    ('id = "x"\nversion = "1"\n[authors]\npremod_after = 5\nblock_after = 2\n[[clause]]\n' + _CLAUSE,
     "[authors] premod_after (5) must not exceed block_after (2)"),
    ('id = "x"\nversion = "1"\n[authors]\npremod_after = 7\n[[clause]]\n' + _CLAUSE,
     "[authors] premod_after (7) must not exceed block_after (6, the default)"),
    ('id = "x"\nversion = "1"\n[authors]\nblock_after = 2\n[[clause]]\n' + _CLAUSE,
     "[authors] premod_after (3, the default) must not exceed block_after (2)"),
    ('id = "x"\nversion = "1"\n[unscorable]\nclause = 7\n[[clause]]\n' + _CLAUSE,
     "[unscorable]: clause must be a string, got 7"),
    ('id = "x"\nversion = "1"\n[authors]\ntext = {en = "x"}\n[[clause]]\n' + _CLAUSE,
     "[authors]: text must be a string, got {'en': 'x'}"),
    ('id = 5\nversion = "1"\n[[clause]]\n' + _CLAUSE, "policy: id must be a string, got 5"),
    ('id = "x"\nversion = [1]\n[[clause]]\n' + _CLAUSE, "policy: version must be a string"),
], ids=["clause-string", "clause-ints", "labels-int", "hold-bool", "reject-bool", "reject-missing", "unscorable-string",
        "authors-int",
        "premod-bool", "languages-string", "languages-empty", "languages-int", "id-table", "id-list", "id-int",
        "text-float", "text-bool", "text-table", "premod-after-block", "premod-after-default-block",
        "premod-default-after-block", "unscorable-clause-int", "authors-text-table", "policy-id-int",
        "policy-version-list"])
def test_wrongly_typed_keys_are_refused_naming_the_key(tmp_path, toml, message):
    path = tmp_path / "policy.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(PolicyError, match=re.escape(message)):
        load_policy(path)


def test_premod_after_may_equal_block_after_to_block_without_premoderating_first(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text('id = "x"\nversion = "1"\n[authors]\npremod_after = 2\nblock_after = 2\n[[clause]]\n' + _CLAUSE,
                    encoding="utf-8")
    policy = load_policy(path)
    assert [policy.decide(_score(), author=AuthorState(strikes=n)).action for n in (1, 2)] == ["approve", "reject"]


def test_policy_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('id = "café"\nversion = "1"\n'.encode("latin-1"))
    with pytest.raises(PolicyError, match=r"latin1.toml: not valid UTF-8 \(invalid continuation byte at byte 9\)"):
        load_policy(path)


def test_policy_file_may_start_with_a_bom(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + POLICY_FILE.read_bytes())
    assert load_policy(path).id == "example-news"


def test_two_clauses_with_one_id_are_refused(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(POLICY_FILE.read_text().replace('id = "no-personal-attacks"', 'id = "no-profanity"'))
    with pytest.raises(PolicyError, match="clause id 'no-profanity' is used by 2 clauses: each needs its own"):
        load_policy(path)
