"""The command-line contract of ../shared/DESIGN.md, run as a real subprocess."""

import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from moderation import cli
from moderation.labels import POLICY_LABELS, STANCES
from moderation.policy import load_policy
from moderation.scorer import Evidence

from .conftest import ROOT


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "moderation.cli", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


@pytest.fixture
def files(tmp_path):
    comments = tmp_path / "comments.jsonl"
    comments.write_text("\n".join([
        json.dumps({"id": "c1", "text": "Great reporting, the cycle lanes are overdue.", "article_id": "a1"}),
        json.dumps({"id": "c2", "text": "You absolute <b>moron</b>.", "article_id": "a1", "parent_id": "c1"}),
        "{not json",
        json.dumps({"id": "c4"}),
        json.dumps({"id": 5, "text": "Das ist doch völliger Unsinn, die Regierung lügt uns an."}),
        json.dumps({"id": "c6", "text": "unknown article", "article_id": "zzz"}),
    ]) + "\n")
    articles = tmp_path / "articles.jsonl"
    articles.write_text(json.dumps({"id": "a1", "title": "Council approves cycle lanes",
                                    "body": "The council voted to build protected cycle lanes on the high street."}) + "\n")
    return comments, articles


def test_score_jsonl_contract(files, tmp_path):
    comments, articles = files
    out = tmp_path / "out.jsonl"
    result = run("score", "--input", str(comments), "--articles", str(articles), "--output", str(out))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["id"] for x in lines] == ["c1", "c2", 5, "c6"]
    for line in lines:
        assert set(line) == {"id", "scores", "stance", "stance_scores", "language"}
        assert set(POLICY_LABELS) <= set(line["scores"])
        assert all(0.0 <= v <= 1.0 for v in line["scores"].values())
    assert lines[0]["stance"] in STANCES and set(lines[0]["stance_scores"]) == set(STANCES)
    assert lines[2]["stance"] is None and lines[2]["language"] == "de"
    assert lines[3]["stance"] is None
    # malformed lines are reported with their numbers, never dropped silently
    assert ":3: skipped: not valid JSON" in result.stderr
    assert ":4: skipped: missing field 'text'" in result.stderr
    assert "skipped 2 malformed lines" in result.stderr


def test_score_with_policy_adds_action_and_reasons(files, scorer):
    comments, articles = files
    result = run("score", "--input", str(comments), "--articles", str(articles), "--policy", "data/policy.toml")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    by_id = {x["id"]: x for x in lines}
    assert by_id["c1"]["action"] == "approve" and by_id["c1"]["reasons"] == []
    attack = by_id["c2"]
    assert attack["action"] in ("hold", "reject")
    reason = next(r for r in attack["reasons"] if r["label"] == "personal_attack")
    assert reason["clause_id"] == "no-personal-attacks" and reason["code"] == "ABUSIVE"
    text = "You absolute <b>moron</b>."
    # the evidence points into the original HTML and covers the insult
    spans = [text[e["begin"]:e["end"]] for e in reason["evidence"]]
    assert spans == [e["text"] for e in reason["evidence"]]
    assert any("moron" in span for span in spans)
    assert by_id[5]["action"] == "hold"  # German: the policy holds what the model cannot read
    # every verdict names the model and the policy that produced it, as the service's stored verdicts do
    policy = load_policy(ROOT / "data" / "policy.toml")
    for line in lines:
        assert line["model_version"] == scorer.version
        assert line["policy_version"] == f"{policy.id}@{policy.version}"


def test_csv_and_stdin(tmp_path):
    csv_file = tmp_path / "in.csv"
    csv_file.write_text('id,text\n1,"Nice one, thanks"\n2,"you are an idiot"\n3\n')
    result = run("score", "--input", str(csv_file))
    assert result.returncode == 0, result.stderr
    assert [json.loads(x)["id"] for x in result.stdout.splitlines()] == ["1", "2"]
    assert ":4: skipped: 1 columns, expected 2" in result.stderr
    piped = run("score", "--input", "-", stdin=json.dumps({"id": "s", "text": "hello there"}) + "\n")
    assert json.loads(piped.stdout)["id"] == "s"


def test_bad_model_dir_and_missing_input_are_clear_errors(tmp_path):
    result = run("score", "--input", "nope.jsonl")
    assert result.returncode == 2 and "--input nope.jsonl: no such file" in result.stderr
    result = run("score", "--input", "-", "--model", str(tmp_path), stdin="")
    assert result.returncode == 2 and "manifest.json is missing" in result.stderr and "make train-default" in result.stderr


@pytest.mark.parametrize("option,value,message", [
    ("--articles", "nope.jsonl", "--articles nope.jsonl: no such file"),
    ("--output", "no/such/dir/out.jsonl", "--output no/such/dir/out.jsonl: its folder does not exist"),
    ("--input", "data", "--input data: is a directory"),
])
def test_a_file_that_cannot_be_opened_is_named_with_its_option(option, value, message):
    args = {"--input": "-", option: value}
    result = run("score", *[x for pair in args.items() for x in pair], stdin='{"id": "x", "text": "hi"}\n')
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_an_input_that_is_a_pipe_loses_nothing(tmp_path):
    # /dev/stdin fed by a pipe can be read once only: nothing may be read to sniff the encoding and dropped.
    lines = "".join(json.dumps({"id": f"p{i}", "text": "Fine piece. " * 100}) + "\n" for i in range(40))  # > 8 KiB
    result = subprocess.run(f"cat | {sys.executable} -m moderation.cli score --input /dev/stdin", shell=True,
                            input=lines, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [f"p{i}" for i in range(40)]


def test_stdin_for_both_comments_and_articles_is_refused():
    result = run("score", "--input", "-", "--articles", "-", stdin='{"id": "x", "text": "hi"}\n')
    assert result.returncode == 2 and "stdin can be read only once" in result.stderr
    assert "Traceback" not in result.stderr


def test_article_ids_missing_from_the_articles_file_are_reported(files):
    comments, articles = files
    result = run("score", "--input", str(comments), "--articles", str(articles))
    assert result.returncode == 0
    assert "1 article_id value(s) are not in --articles" in result.stderr and "'zzz'" in result.stderr


def test_an_article_given_twice_is_named_and_one_without_text_gives_no_stance(files, tmp_path):
    comments, _ = files
    articles = tmp_path / "twice.jsonl"
    articles.write_text("\n".join(json.dumps(a) for a in [
        {"id": "a1", "title": "Market stalls", "body": "The market will grow to 52 stalls."},
        {"id": "zzz", "title": "", "body": "  "},
        {"id": "a1", "title": "Council approves cycle lanes",
         "body": "The council voted to build protected cycle lanes on the high street."}]) + "\n")
    result = run("score", "--input", str(comments), "--articles", str(articles))
    assert result.returncode == 0, result.stderr
    assert f"{articles}:3: warning: article 'a1' is also on line 1: this later one is used" in result.stderr
    assert f"{articles}:2: skipped article: no title and no body: its comments get no stance" in result.stderr
    lines = {r["id"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert lines["c6"]["stance"] is None and lines["c1"]["stance"] is not None
    same = run("score", "--input", str(comments), "--articles", str(files[1]))
    assert {r["id"]: r["stance_scores"] for r in map(json.loads, same.stdout.splitlines())}["c1"] == (
        lines["c1"]["stance_scores"]), "the later article is the one read"


# 45,000 characters: two pieces of civil filler, then a sentence that swears (scored in three pieces).
_LONG = "The council published the budget figures on Tuesday. " * 800 + "What a load of bullshit this is."


def test_a_comment_over_the_scorer_s_limit_gets_its_line_scored_whole(tmp_path):
    comments = tmp_path / "long.jsonl"
    comments.write_text(json.dumps({"id": "long", "text": _LONG}) + "\n" + json.dumps({"id": "short", "text": "ok"}) + "\n")
    result = run("score", "--input", str(comments), "--policy", "data/policy.toml")
    assert result.returncode == 0 and "skipped 0 malformed lines" in result.stderr, result.stderr
    lines = {x["id"]: x for x in map(json.loads, result.stdout.splitlines())}
    assert set(lines) == {"long", "short"}
    assert lines["long"]["scores"]["profanity"] >= 0.5 and lines["long"]["action"] in ("hold", "reject")
    spans = [e for r in lines["long"]["reasons"] for e in r["evidence"]]
    assert spans and all(e["begin"] > 40_000 and _LONG[e["begin"]:e["end"]] == e["text"] for e in spans)


def test_explain_reads_a_text_over_the_scorer_s_limit_whole():
    result = run("explain", _LONG)
    assert result.returncode == 0, result.stderr
    at = _LONG.index("bullshit")  # evidence offsets are into the whole text
    assert f"evidence profanity        [{at}:{at + 8}] 'bullshit'" in result.stdout, result.stdout[-400:]


@pytest.mark.parametrize("option", ["--input", "--articles", "--policy"])
def test_an_output_over_a_file_the_command_reads_is_refused_and_the_file_kept(files, tmp_path, option):
    comments, articles = files
    policy = tmp_path / "policy.toml"
    policy.write_bytes((ROOT / "data" / "policy.toml").read_bytes())
    target = {"--input": comments, "--articles": articles, "--policy": policy}[option]
    before = target.read_bytes()
    result = run("score", "--input", str(comments), "--articles", str(articles), "--policy", str(policy),
                 "--output", str(tmp_path / "." / target.name))
    assert result.returncode == 2 and f"is the file {option} reads" in result.stderr, result.stderr
    assert target.read_bytes() == before and result.stdout == ""


@pytest.mark.parametrize("option", ["--input", "--articles"])
def test_an_output_over_the_file_stdin_is_redirected_from_is_refused_and_the_file_kept(files, tmp_path, option):
    comments, articles = files
    target = {"--input": comments, "--articles": articles}[option]
    before = target.read_bytes()
    others = ["--articles", str(articles)] if option == "--input" else ["--input", str(comments)]
    with target.open() as stdin:  # `moderation score --input - --output f.jsonl < f.jsonl`
        result = subprocess.run([sys.executable, "-m", "moderation.cli", "score", option, "-", *others,
                                 "--output", str(target)], stdin=stdin, capture_output=True, text=True, cwd=ROOT,
                                timeout=120)
    assert result.returncode == 2 and f"is the file {option} - reads (stdin is redirected from it)" in result.stderr
    assert target.read_bytes() == before


@pytest.mark.parametrize("option", ["--input", "--articles", "--policy"])
def test_a_directory_is_named_as_one_even_with_an_output_file_inside_it(files, tmp_path, option):
    comments, articles = files
    (tmp_path / "out.jsonl").write_text("kept\n")
    args = {"--input": str(comments), "--articles": str(articles), option: str(tmp_path)}
    result = run("score", *[x for pair in args.items() for x in pair], "--output", str(tmp_path / "out.jsonl"))
    assert result.returncode == 2 and "is a directory, not a file" in result.stderr, result.stderr
    assert (tmp_path / "out.jsonl").read_text() == "kept\n"


def test_a_policy_that_is_a_directory_and_an_output_that_takes_no_writes_are_named(files, tmp_path):
    comments, _ = files
    result = run("score", "--input", str(comments), "--policy", str(tmp_path))
    assert result.returncode == 2 and f"policy file {tmp_path}: is a directory, not a file" in result.stderr
    full = run("score", "--input", str(comments), "--output", "/dev/full")
    assert full.returncode == 2 and "--output /dev/full: cannot be written (No space left on device)" in full.stderr
    assert "Traceback" not in result.stderr + full.stderr


def test_ctrl_c_ends_with_one_line_and_status_130(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt
    parser = cli.build_parser
    monkeypatch.setattr(cli, "build_parser", lambda: _with_func(parser(), interrupted))
    assert cli.main(["explain", "x"]) == 130
    assert capsys.readouterr().err == "moderation: interrupted: the results written before stay written\n"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_terminated_run_leaves_its_lines_in_a_partial_file_and_the_earlier_output_whole(tmp_path, jobs):
    """SIGTERM (kill, timeout) stops a run as Ctrl-C does; --output is only ever a complete file."""
    comments = tmp_path / "many.jsonl"
    comments.write_text("".join(json.dumps({"id": k, "text": "The council should fund the cycle lanes. " * 20}) + "\n"
                                for k in range(40_000)))
    out, partial = tmp_path / "out.jsonl", tmp_path / "out.jsonl.partial"
    out.write_text("an earlier run's results\n")
    proc = subprocess.Popen([sys.executable, "-m", "moderation.cli", "score", "--input", str(comments), "--output",
                             str(out), "--jobs", jobs], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while not (partial.exists() and partial.stat().st_size > 0) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert partial.exists(), "the run wrote nothing"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143, err
    assert f"terminated: the results written before are in {partial}" in err and "Traceback" not in err
    assert out.read_text() == "an earlier run's results\n"
    lines = partial.read_text().splitlines()
    assert 0 < len(lines) < 40_000 and [json.loads(line)["id"] for line in lines] == list(range(len(lines)))


def test_the_results_keep_the_output_file_s_permissions(files, tmp_path):
    comments, _ = files
    out = tmp_path / "private.jsonl"
    out.write_text("old\n")
    out.chmod(0o600)
    assert run("score", "--input", str(comments), "--output", str(out)).returncode == 0
    assert out.stat().st_mode & 0o777 == 0o600 and json.loads(out.read_text().splitlines()[0])["id"] == "c1"


@pytest.mark.parametrize("option", ["--input", "--articles"])
def test_an_input_that_is_the_output_s_partial_file_is_refused(files, tmp_path, option):
    comments, articles = files
    source = comments if option == "--input" else articles
    partial = tmp_path / "out.jsonl.partial"
    partial.write_bytes(source.read_bytes())
    args = {"--input": str(comments), "--articles": str(articles), option: str(partial)}
    result = run("score", *[x for pair in args.items() for x in pair], "--output", str(tmp_path / "out.jsonl"))
    assert result.returncode == 2 and f"is written as {partial} first, which is the file {option} reads" in result.stderr
    assert partial.read_bytes() == source.read_bytes() and not (tmp_path / "out.jsonl").exists()


def test_an_interruption_before_any_output_names_no_earlier_partial_file(files, tmp_path, monkeypatch, capsys):
    (tmp_path / "out.jsonl.partial").write_text("an earlier run's\n")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli.Scorer, "load", interrupted)
    comments, _ = files
    assert cli.main(["score", "--input", str(comments), "--output", str(tmp_path / "out.jsonl")]) == 130
    assert capsys.readouterr().err == "moderation: interrupted: the results written before stay written\n"


def test_a_finished_run_replaces_the_output_and_leaves_no_partial_file(files, tmp_path):
    comments, _ = files
    out = tmp_path / "out.jsonl"
    out.write_text("an earlier run's results\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(out)
    result = run("score", "--input", str(comments), "--output", str(link))
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and json.loads(out.read_text().splitlines()[0])["id"] == "c1"
    assert sorted(p.name for p in tmp_path.iterdir() if "partial" in p.name) == []


def _with_func(parser, func):
    for action in parser._subparsers._group_actions:
        for sub in action.choices.values():
            sub.set_defaults(func=func)
    return parser


def test_chunks_hold_at_most_512_comments_or_250_000_characters():
    records = iter([(n, {"id": n, "text": "x" * 100_000}) for n in range(1, 8)])
    assert [len(cli._chunk(records)) for _ in range(4)] == [3, 3, 1, 0]  # 300,000 characters: the 3rd ends it
    short = iter([(n, {"id": n, "text": "hi"}) for n in range(1, 1001)] + [(1001, cli._Malformed("bad"))])
    assert [len(cli._chunk(short)) for _ in range(3)] == [512, 489, 0]


def test_explain_highlights_evidence():
    result = run("explain", "You clearly didn't read it, you absolute moron.")
    assert result.returncode == 0, result.stderr
    assert "personal_attack" in result.stdout and "[[" in result.stdout and "moron" in result.stdout
    assert "no verdict: give --policy" in result.stdout


def test_explain_prints_a_text_that_is_not_utf8_back_as_given():
    """POSIX hands such bytes to Python as lone surrogates; a strict UTF-8 stdout refused them with a traceback."""
    result = subprocess.run([sys.executable, "-m", "moderation.cli", "explain", b"caf\xe9, you absolute moron"],
                            capture_output=True, cwd=ROOT, timeout=120, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert b"  caf\xe9, " in result.stdout and b"moron]]" in result.stdout and b"Traceback" not in result.stderr


def test_explain_shows_the_score_against_the_threshold_and_why_a_fallback_decided():
    result = run("explain", "You clearly didn't read it, you absolute moron.", "--policy", "data/policy.toml")
    assert result.returncode == 0, result.stderr
    assert re.search(r"\(no-personal-attacks\) personal_attack 0\.\d{3} >= 0\.[48]0:", result.stdout), result.stdout
    assert "\npolicy example-news@" in result.stdout  # the policy version the verdict came from
    empty = run("explain", "<p></p>", "--policy", "data/policy.toml")
    assert "verdict: reject (the text is empty" in empty.stdout
    german = run("explain", "Das ist doch völliger Unsinn, die Regierung lügt uns an.", "--policy", "data/policy.toml")
    assert "verdict: hold (the text reads as language 'de'" in german.stdout
    thumbs = run("explain", "\U0001f44d", "--policy", "data/policy.toml")  # scored: the example policy's no_words
    assert "verdict: approve\n" in thumbs.stdout and "language" not in thumbs.stdout.split("verdict:")[1]


def test_explain_names_an_insult_word_read_as_aimed_at_a_thing():
    text = "What a <b>STUPID</b> plan. It costs millions. The mayor is a moron."
    result = run("explain", text)
    assert result.returncode == 0, result.stderr
    assert "aimed at a thing, read as 'bad' by personal_attack and toxicity: [10:16] 'STUPID'" in result.stdout
    assert "[[moron]]" in result.stdout and "[[STUPID]]" not in result.stdout
    plain = run("explain", "The mayor is a moron.")
    assert "aimed at a thing" not in plain.stdout


def test_overlapping_evidence_spans_are_merged():
    text = "<b>f&#117;ck</b> you <i>moron</i>"
    evidence = [Evidence("profanity", 3, 12, text[3:12], 1.0), Evidence("personal_attack", 3, 29, text[3:29], 1.0),
                Evidence("toxicity", 30, 32, text[30:32], 1.0)]
    assert cli._highlight(text, evidence) == "<b>[[f&#117;ck</b> you <i>moron]]<[[/i]]>"


@pytest.mark.parametrize("text, span, shown", [
    # a terminal would clear the screen, retitle the window, ring, overwrite the line, reverse what follows
    ("you idiot\x1b[2J\x1b]0;pwned\x07 ok\nnext\rCR", (4, 9), r"you [[idiot]]\x1b\[2J\x1b\]0;pwned\x07 ok\nnext\rCR"),
    ("\u202eidiot\u2066 \x85\x9b\x7f\t", (1, 6), r"\u202e[[idiot]]\u2066 \x85\x9b\x7f\t"),
    ("caf\udce9 \udc9b idiot", (7, 12), "caf\udce9 \\udc9b [[idiot]]"),  # not UTF-8: 0x9b is C1 in Latin-1
    ("id\x1biot", (0, 6), r"[[id\x1biot]]"),  # an escape inside evidence stays inside its markers
    # the text's own markers (and backslashes) are escaped: an unescaped [[ ]] is evidence
    ("You idiot. [[not evidence]]", (4, 9), r"You [[idiot]]. \[\[not evidence\]\]"),
    ("a\\[[idiot]] b", (4, 9), r"a\\\[\[[[idiot]]\]\] b"),
])
def test_explain_shows_the_text_s_controls_and_markers_as_escapes(text, span, shown):
    begin, end = span
    assert cli._highlight(text, [Evidence("personal_attack", begin, end, text[begin:end], 1.0)]) == shown


def test_explain_prints_no_terminal_control_of_the_comment():
    result = run("explain", "You absolute moron\x1b[2J\x1b]0;pwned\x07 ok\nnext line\rCR \u202eabc")
    assert result.returncode == 0, result.stderr
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", result.stdout), result.stdout
    assert r"\x1b\[2J\x1b\]0;pwned\x07 ok\nnext line\rCR \u202eabc" in result.stdout and "[[" in result.stdout


def test_explain_shows_a_long_text_around_its_evidence():
    text = "a" * 28_000 + " What a load of bullshit " + "b" * 28_000
    at = text.index("bullshit")
    shown = cli._highlight(text, [Evidence("profanity", at, at + 8, "bullshit", 1.0)])
    assert shown == ("[... 27,936 characters ...]" + "a" * 64 + " What a load of [[bullshit]] " + "b" * 79
                     + "[... 27,921 characters ...]")
    short = "a" * 1_900 + " bullshit"
    assert cli._highlight(short, [Evidence("profanity", 1_901, 1_909, "bullshit", 1.0)]) == short[:1_901] + "[[bullshit]]"


def test_explain_with_a_policy_gives_evidence_for_each_label_at_its_hold_threshold(tmp_path):
    low = tmp_path / "low.toml"
    low.write_text((ROOT / "data/policy.toml").read_text().replace("hold_at = 0.45", "hold_at = 0.05"))
    text = "Honestly that take is a bit daft"
    held = run("explain", text, "--policy", str(low), "--min-score", "0.9")
    assert re.search(r"hold \(no-profanity\) profanity 0\.\d{3} >= 0\.05", held.stdout), held.stdout
    assert "evidence profanity" in held.stdout and "[[" in held.stdout
    assert "evidence profanity" not in run("explain", text, "--min-score", "0.9").stdout  # without a policy, as before


def test_a_closed_pipe_ends_quietly(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": i, "text": f"comment number {i}"}) + "\n" for i in range(3000)))
    with (tmp_path / "err").open("w+b") as err:
        proc = subprocess.Popen([sys.executable, "-m", "moderation.cli", "score", "--input", str(source)], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=err)
        assert json.loads(proc.stdout.readline())["id"] == 0
        proc.stdout.close()  # as `| head -1` does: the rest of the output has nowhere to go
        assert proc.wait(timeout=120) == 0
        err.seek(0)
        assert b"Error" not in err.read()


# --jobs: worker processes give the one-process output, in input order ---------------------------------

def test_jobs_give_the_same_output_in_input_order(tmp_path, monkeypatch):
    """Several chunks (BATCH lowered to 3 in the workers too: they are forked), malformed lines among
    them, a comment long enough to be scored in pieces, a policy: the same lines and messages."""
    lines, expected_skips = [], []
    for k in range(20):
        if k % 7 == 3:
            lines.append("{broken")
            expected_skips.append(k + 1)
        else:
            text = ("You absolute moron. " if k % 3 == 0 else "The cycle lanes are overdue. ") * (k + 1)
            lines.append(json.dumps({"id": f"c{k}", "text": text, "article_id": "a1"}))
    lines.append(json.dumps({"id": "long", "text": "The council should resign now. " * 1_000, "article_id": "a1"}))
    comments = tmp_path / "comments.jsonl"
    comments.write_text("\n".join(lines) + "\n")
    articles = tmp_path / "articles.jsonl"
    articles.write_text(json.dumps({"id": "a1", "title": "Council approves cycle lanes",
                                    "body": "The council voted to build protected cycle lanes."}) + "\n")
    monkeypatch.setattr(cli, "BATCH", 3)
    pools = []
    get_context = cli.multiprocessing.get_context
    monkeypatch.setattr(cli.multiprocessing, "get_context", lambda method: pools.append(method) or get_context(method))
    results = {}
    for jobs in (1, 2, 3):
        out = tmp_path / f"out{jobs}.jsonl"
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            status = cli.main(["score", "--input", str(comments), "--articles", str(articles), "--policy",
                               str(ROOT / "data" / "policy.toml"), "--output", str(out), "--jobs", str(jobs)])
        assert status == 0, err.getvalue()
        skipped = [int(m) for m in re.findall(r"comments\.jsonl:(\d+): skipped", err.getvalue())]
        assert skipped == expected_skips
        results[jobs] = out.read_text()
    assert pools == ["fork", "fork"]  # --jobs 2 and 3 made worker pools; --jobs 1 none
    assert results[1] == results[2] == results[3]
    ids = [json.loads(line)["id"] for line in results[1].splitlines()]
    assert ids == [f"c{k}" for k in range(20) if k % 7 != 3] + ["long"]
    assert all("action" in json.loads(line) for line in results[1].splitlines())


def test_worker_processes_get_chunks_of_half_the_characters(tmp_path, monkeypatch):
    """With --jobs 2 a chunk holds at most BATCH_CHARS / 2 characters (the workers' last chunks end closer
    together); in one process, BATCH_CHARS."""
    comments = tmp_path / "comments.jsonl"
    comments.write_text("".join(json.dumps({"id": f"c{k}", "text": "Fine words. " * 5_000}) + "\n" for k in range(9)))
    sizes = {}
    real = cli._scored

    def scored(chunks, jobs, *args):
        sizes[jobs] = []
        for chunk in chunks:
            sizes[jobs].append(len(chunk))
        return real(iter([]), 1, *args)

    monkeypatch.setattr(cli, "_scored", scored)
    for jobs in (1, 2):
        with contextlib.redirect_stderr(io.StringIO()):
            cli.main(["score", "--input", str(comments), "--output", str(tmp_path / "o.jsonl"), "--jobs", str(jobs)])
    assert cli.chunk_chars(1) == cli.BATCH_CHARS == 2 * cli.chunk_chars(2)
    assert sizes == {1: [5, 4], 2: [3, 3, 3]}  # 60,000 characters each: 250,000 hold 5 (the 5th ends it), 125,000 3


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_jobs_must_be_a_positive_whole_number(value, files):
    comments, _ = files
    result = run("score", "--input", str(comments), "--jobs", value)
    assert result.returncode == 2 and "--jobs" in result.stderr and "Traceback" not in result.stderr


def _dying_or_failing(monkeypatch, how: str):
    """Make every worker process (not this one) die or raise an exception that does not pickle back."""
    parent, real = os.getpid(), cli._score_chunk

    class Odd(Exception):
        def __init__(self, a, b):
            super().__init__(f"{a} {b}")

    def score_chunk(chunk, *args, **kwargs):
        if os.getpid() != parent:
            if how == "die":
                os.kill(os.getpid(), signal.SIGKILL)
            raise Odd("cannot", "pickle")
        return real(chunk, *args, **kwargs)

    monkeypatch.setattr(cli, "_score_chunk", score_chunk)


@pytest.mark.parametrize("how,message", [("die", "a worker process of --jobs 2 died"),
                                         ("raise", "a worker process failed: Odd: cannot pickle")])
def test_a_worker_that_dies_or_fails_stops_the_run_with_an_error(how, message, files, tmp_path, monkeypatch):
    comments, _ = files
    _dying_or_failing(monkeypatch, how)
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("the command hung")))
    signal.alarm(60)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            status = cli.main(["score", "--input", str(comments), "--output", str(tmp_path / "o.jsonl"),
                               "--jobs", "2"])
    finally:
        signal.alarm(0)
    assert status == 2 and message in err.getvalue(), err.getvalue()


def test_a_worker_killed_while_the_input_is_read_stops_the_run_after_writing_what_finished():
    """The pool breaks between two chunks (submitting the next one raises): the finished chunk's lines
    still come back, then the error."""
    import multiprocessing
    import time

    from moderation.scorer import Scorer

    first = [(1, {"id": "a", "text": "Fine words."}), (2, {"id": "b", "text": "More fine words."})]

    def chunks():
        yield first
        time.sleep(3)  # the first chunk is scored meanwhile
        for worker in multiprocessing.active_children():
            os.kill(worker.pid, signal.SIGKILL)
        time.sleep(1)
        yield [(3, {"id": "c", "text": "Never scored."})]

    got = []
    with pytest.raises(cli.ModerationError, match="a worker process of --jobs 2 died"):
        for chunk, (lines, _notes, written, _bad) in cli._scored(chunks(), 2, Scorer.load(None), None, "in", None):
            got.append((chunk, written, lines))
    assert len(got) == 1 and got[0][0] == first and got[0][1] == 2
    assert [json.loads(line)["id"] for line in got[0][2].splitlines()] == ["a", "b"]


def test_workers_exit_when_the_parent_is_killed_alone(tmp_path):
    psutil = pytest.importorskip("psutil")
    comments = tmp_path / "many.jsonl"
    comments.write_text("".join(json.dumps({"id": k, "text": "The council should fund the cycle lanes. " * 40}) + "\n"
                                for k in range(20_000)))
    proc = subprocess.Popen([sys.executable, "-m", "moderation.cli", "score", "--input", str(comments), "--output",
                             str(tmp_path / "out.jsonl"), "--jobs", "2"], cwd=ROOT, stderr=subprocess.DEVNULL)
    workers = []
    try:
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
            workers = psutil.Process(proc.pid).children()
        assert len(workers) >= 2, "the workers did not start"
        proc.kill()  # the parent alone, as the OOM killer or a supervisor would
        proc.wait(timeout=30)
        _, alive = psutil.wait_procs(workers, timeout=15)
        assert not alive, f"workers left running: {[p.pid for p in alive]}"
    finally:
        proc.kill()
        for worker in workers:
            with contextlib.suppress(psutil.Error):
                worker.kill()


@pytest.mark.parametrize("command", ["score", "explain"])
def test_a_model_that_loads_but_cannot_score_is_refused_before_any_output(command, files, tmp_path, monkeypatch):
    """The commands score one comment first: a model that cannot score stops them with an error naming the model
    (exit 2), before --output is written, instead of every line being skipped as if the input were at fault."""
    from moderation.scorer import Scorer

    comments, _ = files

    def broken(self, texts, article_ids=None):
        raise ValueError("operands could not be broadcast together")

    monkeypatch.setattr(Scorer, "score_batch", broken)
    out = tmp_path / "out.jsonl"
    args = (["score", "--input", str(comments), "--output", str(out)] if command == "score"
            else ["explain", "You absolute moron."])
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert cli.main(args) == 2
    assert "loads but cannot score: ValueError: operands could not be broadcast together" in err.getvalue()
    assert not out.exists()
