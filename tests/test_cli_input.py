"""Hostile input to ``moderation score`` and ``explain``: every line is scored or reported, nothing crashes."""

import io
import json
import subprocess
import sys

import pytest

from moderation import cli
from moderation.errors import InputError
from moderation.policy import Policy, load_policy

from .conftest import ROOT

OK = b'{"id": "g1", "text": "Nice piece."}\n'


def read(tmp_path, name: str, content: bytes):
    """(line number, id or the reason it was skipped) for each record the CLI reads from a file."""
    path = tmp_path / name
    path.write_bytes(content)
    with cli._open_in(str(path)) as fh:
        return [(n, r["id"] if isinstance(r, dict) else str(r)) for n, r in cli._records(fh, str(path))]


CASES = [
    # the format comes from the extension; only an input without one is sniffed, past blank lines
    ("blank-first.jsonl", b"\n" + OK, [(2, "g1")]),
    ("bom.jsonl", b"\xef\xbb\xbf" + OK + OK, [(1, "g1"), (2, "g1")]),
    ("joined.jsonl", b"\xef\xbb\xbf" + OK + b"\xef\xbb\xbf" + OK, [(1, "g1"), (2, "g1")]),  # two files end to end
    ("joined.csv", b"\xef\xbb\xbfid,text\nc1,hello\n\xef\xbb\xbfc2,two\n", [(2, "c1"), (3, "c2")]),
    ("array-first.jsonl", b"[1, 2]\n" + OK, [(1, "not a JSON object"), (2, "g1")]),
    ("string-first.jsonl", b'"hello"\n' + OK, [(1, "not a JSON object"), (2, "g1")]),
    ("garbage-first.jsonl", b"garbage\n" + OK, [(1, "not valid JSON (Expecting value at column 1)"), (2, "g1")]),
    ("garbage-first.ndjson", b"garbage\n" + OK, [(1, "not valid JSON (Expecting value at column 1)"), (2, "g1")]),
    ("no-extension", b"\n  \n" + OK, [(3, "g1")]),
    ("no-extension", b'"hello"\n' + OK, [(1, "not a JSON object"), (2, "g1")]),
    ("no-extension", b"id,text\n1,hello\n", [(2, "1")]),
    # JSON that Python reads but is not JSON, or that it cannot read at all
    ("nan.jsonl", b'{"id": NaN, "text": "x"}\n{"id": "i", "text": "x", "n": -Infinity}\n' + OK,
     [(1, "not valid JSON (NaN is not a JSON number)"), (2, "not valid JSON (-Infinity is not a JSON number)"),
      (3, "g1")]),
    # a text that is missing or not a string says which
    ("texts.jsonl", b'{"id": "t1"}\n{"id": "t2", "text": null}\n{"id": "t3", "text": 42}\n' + OK,
     [(1, "missing field 'text'"), (2, "field 'text' must be a string, got null"),
      (3, "field 'text' must be a string, got an integer"), (4, "g1")]),
    # a key given twice: json keeps the last value, other tools the first; which comment was meant is not known
    ("twice.jsonl", b'{"id": "g", "text": "ok", "id": "h"}\n' + OK,
     [(1, "the key 'id' appears twice in one object"), (2, "g1")]),
    ("deep.jsonl", b'{"id": "d", "text": "x", "a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n" + OK,
     [(1, "not valid JSON (nested too deeply)"), (2, "g1")]),
    ("latin1.jsonl", b'{"id": "n1", "text": "caf\xe9"}\n' + OK, [(1, "not valid UTF-8"), (2, "g1")]),
    ("latin1.csv", b"id,text\nn1,caf\xe9\ng1,fine\n", [(2, "not valid UTF-8"), (3, "g1")]),
    # an id is a non-empty string or an integer
    ("ids.jsonl", b"\n".join([b'{"id": null, "text": "x"}', b'{"id": {"a": 1}, "text": "x"}',
                             b'{"id": true, "text": "x"}', b'{"id": 1.5, "text": "x"}', b'{"id": "", "text": "x"}',
                             b'{"id": "\\udc80x", "text": "x"}', b'{"id": 7, "text": "x"}',
                             b'{"id": "a", "text": "x", "article_id": ["a1"]}']) + b"\n",
     [(1, "field 'id' must be a non-empty string or an integer, got null"),
      (2, "field 'id' must be a non-empty string or an integer, got an object"),
      (3, "field 'id' must be a non-empty string or an integer, got a boolean"),
      (4, "field 'id' must be a non-empty string or an integer, got a number with a fraction"),
      (5, "field 'id' is empty"),
      (6, "field 'id' holds a lone surrogate ('\\udc80'), which cannot be written as UTF-8"),
      (7, 7),
      (8, "field 'article_id' must be a string or an integer, got an array")]),
    # a bare carriage return is JSON whitespace, and a line end: a record it cuts is read on; lines ending with one
    # alone are lines; a record that is cut and wrong is reported alone, the lines after it read as records
    ("cr-inside.jsonl", b'{"id": "c1",\r "text": "two\\r parts"}\n' + OK, [(1, "c1"), (3, "g1")]),
    ("cr-many.jsonl", b'{"id":\r"c1",\r\r"text":\r"x"\r}\r\n' + OK + b'{"id": "c3", "text": "y"}\n',
     [(1, "c1"), (7, "g1"), (8, "c3")]),
    ("cr-lines.jsonl", b'{"id": "m1", "text": "x"}\r{"id": "m2", "text": "y"}\r\r{"id": "m3", "text": "z"}\r',
     [(1, "m1"), (2, "m2"), (4, "m3")]),
    ("cr-broken.jsonl", b'garbage\r{"id": "m2", "text": "y"}\r' + OK,
     [(1, "not valid JSON (Expecting value at column 1)"), (2, "m2"), (3, "g1")]),
    ("cr-at-end.jsonl", OK + b'{"id": "c2",\r',
     [(1, "g1"), (2, "not valid JSON (Expecting property name enclosed in double quotes at column 14)")]),
    ("cr-cut-string.jsonl", b'{"id": 1, "text": "hello\r{"id": 2, "text": "b"}\r{"id": 3, "text": "c"}\r',
     [(1, "not valid JSON (Invalid control character at column 25)"), (2, 2), (3, 3)]),
    ("cr-cut-comma.jsonl", b'{"id": 1, "text": "a",\r{"id": 2, "text": "b"}\rnot json\r{"id": 4, "text": "d"}\r',
     [(1, "not valid JSON (Expecting property name enclosed in double quotes at column 24)"), (2, 2),
      (3, "not valid JSON (Expecting value at column 1)"), (4, 4)]),
    ("cr-cut-colon.jsonl", b'{"id": 1, "text":\r{"id": 2, "text": "b"}\r{"id": 3, "text": "c"}\r',
     [(1, "not valid JSON (Expecting value at column 19)"), (2, 2), (3, 3)]),
    # CSV: a BOM, blank lines, and bad records reported at the line where they start
    ("bom.csv", b"\xef\xbb\xbfid,text\nc1,hello\n", [(2, "c1")]),
    ("blank.csv", b"id,text\nc1,hello\n\nc2,two\n\n", [(2, "c1"), (4, "c2")]),
    ("crlf.csv", b'id,text\r\nc1,"two\r\nlines"\r\nc2,ok\r\n', [(2, "c1"), (4, "c2")]),
    ("multiline-bad.csv", b'id,text\n"c1\nx\ny"\nc2,ok\n', [(2, "1 columns, expected 2"), (5, "c2")]),
    ("unclosed.csv", b'id,text\nc1,"unterminated\nc2,two\nc3,three\n',
     [(2, "a quote opened in this record is never closed; lines 3-4 are read again as records of their own"),
      (3, "c2"), (4, "c3")]),
    ("stray-quote.csv", b'id,text\nc1,"he said "hi" there"\nc2,ok\n',
     [(2, "bad CSV quoting (',' expected after '\"')"), (3, "c2")]),
    ("long-field.csv", b'id,text\nc1,"' + b"a " * 100_000 + b'"\nc2,ok\n', [(2, "c1"), (3, "c2")]),
    ("huge-field.csv", b"id,text\nc1," + b"a" * 1_000_001 + b"\nc2,ok\n",
     [(2, "a field is over 1,000,000 characters"), (3, "c2")]),
    # quoted, over the limit, with line ends inside that close: one record skipped, not its lines read as comments
    ("huge-quoted.csv", b'id,text\nc1,"' + b"a" * 600_000 + b'\nevil,you are a moron\n' + b'""' + b"b" * 600_000
     + b'"\nc2,ok\n', [(2, "a field is over 1,000,000 characters; the record (lines 2-4) is skipped whole"), (5, "c2")]),
]


@pytest.mark.parametrize("name,content,expected", CASES, ids=[case[0] for case in CASES])
def test_every_line_is_read_or_reported(tmp_path, name, content, expected):
    assert read(tmp_path, name, content) == expected


@pytest.mark.parametrize("bom", [b"\xff\xfe", b"\xfe\xff"])
def test_utf16_input_is_one_clear_error(tmp_path, bom):
    path = tmp_path / "utf16.jsonl"
    path.write_bytes(bom + '{"id": "u", "text": "hi"}\n'.encode("utf-16-le" if bom == b"\xff\xfe" else "utf-16-be"))
    with pytest.raises(InputError, match="is UTF-16 text .*save it as UTF-8"):
        cli._open_in(str(path))


@pytest.mark.parametrize("codec", ["utf-32-le", "utf-32-be"])
def test_utf32_input_is_named_as_such(tmp_path, codec):
    path = tmp_path / "utf32.jsonl"
    path.write_bytes('\ufeff{"id": "u", "text": "hi"}\n'.encode(codec))
    with pytest.raises(InputError, match="is UTF-32 text .*save it as UTF-8"):
        cli._open_in(str(path))


def test_a_csv_header_naming_a_column_twice_is_refused(tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text("id,text,id\nc1,hello,c2\n")
    with pytest.raises(InputError, match="the CSV header names column 'id' twice"):
        list(cli._records(cli._open_in(str(path)), str(path)))


def test_articles_joined_end_to_end_keep_the_second_file_s_first_article(tmp_path):
    one = '{"id": "a1", "title": "One", "body": "First."}\n'.encode("utf-8-sig")
    two = '{"id": "a2", "title": "Two", "body": "Second."}\n'.encode("utf-8-sig")
    (tmp_path / "articles.jsonl").write_bytes(one + two)
    (tmp_path / "c.jsonl").write_text(json.dumps({"id": "c", "text": "Agreed.", "article_id": "a2"}) + "\n")
    result = run("score", "--input", str(tmp_path / "c.jsonl"), "--articles", str(tmp_path / "articles.jsonl"))
    assert result.returncode == 0 and b"skipped article" not in result.stderr, result.stderr
    assert json.loads(result.stdout)["stance"] is not None


def test_an_integer_too_long_to_convert_is_reported(tmp_path):
    [(number, problem), ok] = read(tmp_path, "long-int.jsonl", b'{"id": 1' + b"0" * 5000 + b', "text": "x"}\n' + OK)
    assert number == 1 and problem.startswith("not valid JSON (") and ok == (2, "g1")


def test_a_csv_header_without_id_and_text_is_an_error(tmp_path):
    with pytest.raises(InputError, match=r"no-extension:1: read as CSV, but the header line has no 'id' and 'text'"):
        read(tmp_path, "no-extension", b"garbage line\n" + OK)
    with pytest.raises(InputError, match=r"header line has no 'id' and 'text' columns: \['id', 'body'\]"):
        read(tmp_path, "body.csv", b"id,body\nc1,hello\n")
    # Spreadsheets in many locales export CSV separated by ";": the message says so
    with pytest.raises(InputError, match=r"\['id;text'\] \(its columns look separated by ';', as some spreadsheets"):
        read(tmp_path, "semi.csv", b"id;text\nc1;hello\n")


def test_csv_column_names_are_read_in_any_case(tmp_path):
    assert read(tmp_path, "caps.csv", b"ID,Text, Article_ID\nc1,hello,a1\n") == [(2, "c1")]
    with pytest.raises(InputError, match=r"names column 'text' twice"):
        read(tmp_path, "twice.csv", b"id,Text,text\nc1,a,b\n")


@pytest.mark.parametrize("content", [
    b'[\n  {"id": "a", "text": "hi"},\n  {"id": "b", "text": "there"}\n]\n',
    b'[{"id": "a", "text": "hi"}, {"id": "b", "text": "there"}]\n',
])
@pytest.mark.parametrize("name", ["comments.json", "comments.jsonl", "comments.txt"])
def test_a_json_array_is_named_as_such_not_read_as_lines(tmp_path, content, name):
    with pytest.raises(InputError, match=r"is a JSON array, not JSON lines .*jq -c"):
        read(tmp_path, name, content)


def test_a_malformed_array_line_after_the_first_is_skipped_as_before(tmp_path):
    assert read(tmp_path, "c.jsonl", b'{"id": "a", "text": "hi"}\n[{"id": "b", "text": "x"}]\n') == [
        (1, "a"), (2, "not a JSON object")]


@pytest.mark.parametrize("closed,output,status", [("stdout", "file", 0), ("stdout", "-", 2), ("stderr", "file", 0),
                                                  ("stderr", "-", 0)])
def test_a_closed_stdout_or_stderr_is_no_traceback(tmp_path, closed, output, status):
    comments = tmp_path / "c.jsonl"
    comments.write_text('{"id": "a", "text": "Thanks for the article."}\n')
    out = tmp_path / "out.jsonl"
    target = str(out) if output == "file" else "-"
    redirect = ">&-" if closed == "stdout" else "2>&-"
    result = subprocess.run(f"{sys.executable} -m moderation.cli score --input {comments} --output {target} {redirect}",
                            shell=True, cwd=ROOT, capture_output=closed == "stdout", text=True, timeout=120)
    assert result.returncode == status
    if status == 2:
        assert "stdout is closed" in result.stderr
    if output == "file":
        assert json.loads(out.read_text())["id"] == "a"


@pytest.mark.parametrize("name", ["comments.jsonl.gz", "comments.jsonl", "comments.csv"])
def test_gzip_input_is_named_as_such(tmp_path, name):
    import gzip

    path = tmp_path / name
    path.write_bytes(gzip.compress(b'{"id": "u", "text": "hi"}\n'))
    with pytest.raises(InputError, match=r"is gzip-compressed: decompress it first \(gunzip -c"):
        cli._open_in(str(path))


@pytest.mark.parametrize("content", [b"id,title,body\na1,Lanes,The council votes.\n",
                                     b'{"article": "a1", "headline": "Lanes", "content": "The council votes."}\n',
                                     b"", b"\n\n"])
def test_an_articles_file_with_no_article_at_all_is_an_error(scorer, tmp_path, content, capsys):
    path = tmp_path / "articles.jsonl"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"--articles .*: (none of its \d lines is an article|it is empty)"):
        cli._load_articles(scorer, str(path))


def test_articles_are_checked_line_by_line(scorer, tmp_path, capsys):
    path = tmp_path / "articles.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join([
        b'{"id": "a1", "title": "Cycle lanes", "body": "The council votes for cycle lanes."}', b"not json", b"[1]",
        b'{"title": "no id"}', b'{"id": "a2", "title": 5, "body": "x"}', b'{"id": "a3", "title": "T", "body": null}',
        b'{"id": 4}']) + b"\n")
    assert cli._load_articles(scorer, str(path)) == 2
    assert [scorer.has_article(a) for a in ("a1", "a2", "a3", "4")] == [True, False, True, False]
    assert capsys.readouterr().err.splitlines() == [
        f"{path}:2: skipped article: not valid JSON (Expecting value at column 1)",
        f"{path}:3: skipped article: not a JSON object",
        f"{path}:4: skipped article: missing field 'id'",
        f"{path}:5: skipped article: field 'title' must be a string, got an integer",
        f"{path}:7: skipped article: no title and no body: its comments get no stance",
    ]


def test_output_is_strict_utf8_json():
    with pytest.raises(ValueError):
        cli._json_line({"id": "x", "score": float("nan")})
    line = cli._json_line({"id": "é", "evidence": "lone \udc80"})
    assert line.encode("utf-8") and json.loads(line) == {"id": "é", "evidence": "lone \udc80"}


def _chunk(*texts):
    return [(number, {"id": f"c{number}", "text": text}) for number, text in enumerate(texts, 1)]


def test_a_score_that_is_not_a_number_skips_its_line(scorer, monkeypatch, capsys):
    score_batch = scorer.score_batch

    def first_is_nan(texts, ids):
        scores = score_batch(texts, ids)
        scores[0].scores["toxicity"] = float("nan")
        return scores

    monkeypatch.setattr(scorer, "score_batch", first_is_nan)
    out = io.StringIO()
    assert cli._score_chunk(_chunk("Nice piece.", "Fair point."), "in.jsonl", scorer, None, out) == (1, 1)
    assert [json.loads(x)["id"] for x in out.getvalue().splitlines()] == ["c2"]
    assert "in.jsonl:1: skipped: could not write the result (Out of range float" in capsys.readouterr().err


def test_a_bug_while_deciding_is_raised_not_reported_as_a_write_failure(scorer, monkeypatch, capsys):
    def broken(self, score, evidence=(), author=None):
        raise ValueError("a bug in the policy engine")

    monkeypatch.setattr(Policy, "decide", broken)
    policy, out = load_policy(ROOT / "data" / "policy.toml"), io.StringIO()
    with pytest.raises(ValueError, match="a bug in the policy engine"):
        cli._score_chunk(_chunk("Nice piece."), "in.jsonl", scorer, policy, out)
    assert out.getvalue() == "" and "could not write" not in capsys.readouterr().err


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "moderation.cli", *args], input=stdin, capture_output=True,
                          cwd=ROOT, timeout=120)


def test_surrogate_id_is_skipped_and_the_output_file_is_written(tmp_path):
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text('{"id": "\\udc80x", "text": "ok"}\n{"id": "g", "text": "fine"}\n')
    result = run("score", "--input", str(source), "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert b":1: skipped: field 'id' holds a lone surrogate" in result.stderr
    assert [json.loads(x)["id"] for x in out.read_text(encoding="utf-8").splitlines()] == ["g"]


def test_exit_status_and_output_left_alone_when_input_fails(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("keep\n")
    assert run("score", "--input", str(tmp_path / "nope.jsonl"), "--output", str(out)).returncode == 2
    assert out.read_text() == "keep\n"
    nothing_scored = run("score", "--input", "-", stdin=b'{"id": 1}\n\n[2]\n')
    assert nothing_scored.returncode == 1 and b"no comment could be scored" in nothing_scored.stderr
    assert run("score", "--input", "-", stdin=b"").returncode == 0
    assert b"exit status: 0 when" in run("score", "--help").stdout


def test_output_to_a_non_utf8_terminal_is_still_utf8_jsonl(tmp_path):
    """A Latin-1 locale's stdout cannot encode an emoji; JSON lines are UTF-8 whatever the terminal."""
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "c-👍", "text": "Great work on the cycle lanes 👍 – thanks"}) + "\n", encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "latin-1"}
    result = subprocess.run([sys.executable, "-m", "moderation.cli", "score", "--input", str(src)],
                            capture_output=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert json.loads(result.stdout.decode("utf-8"))["id"] == "c-👍"
    explained = subprocess.run([sys.executable, "-m", "moderation.cli", "explain", "You absolute 🤡 moron"],
                               capture_output=True, env=env, timeout=120)
    assert explained.returncode == 0, explained.stderr.decode(errors="replace")
    assert "🤡" in explained.stdout.decode("utf-8")


def test_lines_that_keep_running_out_are_parsed_a_bounded_number_of_times(tmp_path, monkeypatch):
    """Lines whose JSON runs out at a bare carriage return, joined or not ("[1,1,...," then CR): each
    join parses where a value can end or at its limit, so each line costs a few parses, not 64 growing ones."""
    calls = []
    real = cli._json_value
    monkeypatch.setattr(cli, "_json_value", lambda text: calls.append(len(text)) or real(text))
    lines = 1_000
    got = read(tmp_path, "open.jsonl", (b"[" + b"1," * 500 + b"\r") * lines)  # each line opens an array
    assert len(got) == lines and all(isinstance(reason, str) for _, reason in got)
    assert len(calls) <= 3 * lines
    assert sum(calls) <= 3 * cli._CR_JOIN_LINES * 1_001 * lines  # characters parsed: linear in the file


def test_a_record_cut_by_carriage_returns_is_read_on_over_a_bounded_number_of_lines(tmp_path):
    """JSON that keeps running out at bare carriage returns (a pretty-printed array with old Mac line ends,
    here of arrays: a file that is one array of objects is refused whole) is joined over at most
    _CR_JOIN_LINES lines, then reported line by line: time stays linear."""
    content = b"[[\r" + b'  {"id": "x", "text": "y"},\r' * 5_000 + b"]]\r"
    got = read(tmp_path, "pretty.json", content)
    assert len(got) == 5_002 and all(isinstance(reason, str) for _, reason in got)
    assert got[0] == (1, "not valid JSON (Expecting value at column 4)")
    assert got[1] == (2, "not valid JSON (Extra data at column 27)")
