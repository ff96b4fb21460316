"""Command line: ``moderation score`` (files in, JSONL out) and ``moderation explain`` (for a person)."""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import multiprocessing
import multiprocessing.connection
import os
import re
import shutil
import signal
import sys
import threading
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from tqdm import tqdm

from .derogation import AFFIRMED_AT_MOST
from .derogation import FLOOR as DEROGATION_FLOOR
from .errors import InputError, ModerationError, RepeatedKeyError, unique_keys
from .labels import POLICY_LABELS
from .normalise import LONE_SURROGATE
from .policy import load_policy
from .scorer import BATCH_CHARS, Article, Scorer, merge_spans, worst_of

BATCH = 512


class _Malformed(ValueError):
    ran_out = False  # JSON that ran out before its value ended (see _json_value)


_JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
# a comment of any length is scored (in pieces); this only stops a runaway quoted field
_CSV_FIELD_LIMIT = 1_000_000
# Input is decoded with errors="surrogateescape", so a byte that is not UTF-8 arrives as U+DC80-U+DCFF
# (valid UTF-8 never decodes to a surrogate) and its line can be reported instead of silently altered.
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
_JSON_TYPES = {type(None): "null", bool: "a boolean", int: "an integer", float: "a number with a fraction",
               str: "a string", list: "an array", dict: "an object"}


# Byte-order marks of the encodings we refuse, longest first (UTF-32's little-endian one starts as UTF-16's).
_OTHER_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe", "UTF-16"),
               (b"\xfe\xff", "UTF-16"))


def _open_in(name: str):
    """A text stream over an input (a file, a pipe or stdin), opened once: a UTF-16 or UTF-32 byte-order mark is
    looked for without consuming anything, so pipes and FIFOs lose nothing."""
    raw = sys.stdin.buffer if name == "-" else open(name, "rb")
    head = raw.peek(4)[:4] if hasattr(raw, "peek") else b""
    encoding = next((enc for bom, enc in _OTHER_BOMS if head.startswith(bom)), None)
    problem = ("is gzip-compressed: decompress it first (gunzip -c FILE | moderation score --input -)"
               if head.startswith(b"\x1f\x8b") else
               f"is {encoding} text (it starts with a {encoding} byte-order mark): save it as UTF-8" if encoding else None)
    if problem:
        if name != "-":
            raw.close()
        raise InputError(f"{_shown(name)} {problem}", field="input")
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _shown(name: str) -> str:
    """An input's name in a message: ``-`` is stdin."""
    return "stdin" if name == "-" else name


class _Lines:
    """The physical lines of a text stream, numbered, with a way to hand some of them out again."""

    def __init__(self, stream):
        self._stream, self._again, self._read = stream, deque(), 0
        self.number = 0  # of the line handed out last
        self.taken = None  # set to a list to collect the (number, line) pairs handed out

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if self._again:
            self.number, line = self._again.popleft()
        else:
            line = self._stream.readline()
            if not line:
                raise StopIteration
            if line.startswith("\ufeff"):  # a byte-order mark mid-stream: files joined end to end
                line = line[1:]
            self._read += 1
            self.number = self._read
        if self.taken is not None:
            self.taken.append((self.number, line))
        return line

    def again(self, taken) -> None:
        """Hand these (number, line) pairs out again before any line not yet read."""
        self._again.extendleft(reversed(taken))


def _records(stream, name: str):
    """(line number, record or _Malformed) for each non-blank line of a JSONL or CSV input."""
    lines = _Lines(stream)
    if _is_csv(lines, name):
        yield from _csv_records(lines, name)
        return
    yield from _json_records(lines, name)


def _json_records(lines: _Lines, name: str = "-"):
    """(line number, record or _Malformed) of JSON lines.

    A bare carriage return is JSON whitespace, and also a line end (a file may end its lines with one
    alone): a line it ends whose JSON ran out (not wrong) is read on with the lines after it (see
    ``_joined``). When the joined text is no record either, the first line is reported as malformed on
    its own and the lines after it are read again as records of their own. Lines are numbered as read,
    a bare carriage return ending one. A file that is one JSON array (a "[" alone on its first line, or an
    array of objects) is refused as such: read as lines, all but a few of its comments would be skipped.
    """
    first = True
    for line in lines:
        if not line.strip():
            continue
        number, value = lines.number, _json_value(line)
        if first and (line.strip() == "[" or (isinstance(value, list) and value
                                               and all(isinstance(v, dict) for v in value))):
            raise InputError(f"{_shown(name)} is a JSON array, not JSON lines (one comment object per line): convert it, "
                             "e.g. jq -c '.[]' FILE > FILE.jsonl", field="input")
        first = False
        if _ran_out_at_cr(line, value):
            lines.taken = []
            joined = _joined(line, lines)
            taken, lines.taken = lines.taken, None
            if taken and not isinstance(joined, _Malformed):
                value = joined
            else:
                lines.again(taken)
        yield number, _check(value)


# A record cut by bare carriage returns is read on over at most this many more lines and characters.
_CR_JOIN_LINES = 64
_CR_JOIN_CHARS = 1_000_000


def _joined(first: str, lines: _Lines):
    """The JSON value of ``first`` read on with the next lines while each ends with a bare carriage
    return, up to ``_CR_JOIN_LINES`` lines and ``_CR_JOIN_CHARS`` characters, or _Malformed.

    The text so far is parsed only where a value can have ended (a line ending in "}" or "]"), at a
    line's real end, and at the limits: parsing at every line would cost the square of their number.
    Parsing less often changes no answer, since JSON wrong before its end stays wrong however it goes on.
    """
    parts, size, value = [first], len(first), _Malformed("not valid JSON")
    while len(parts) <= _CR_JOIN_LINES and size <= _CR_JOIN_CHARS and (more := next(lines, None)) is not None:
        parts.append(more)
        size += len(more)
        bare_cr = more.endswith("\r")
        if bare_cr and not more.rstrip().endswith(("}", "]")):
            continue  # still open: a value cannot end on this line
        value = _json_value("".join(parts))
        if not (bare_cr and _ran_out_at_cr(parts[-1], value)):
            return value
    return _json_value("".join(parts)) if len(parts) > 1 else value


def _ran_out_at_cr(text: str, value) -> bool:
    """Whether ``text`` ends with a bare carriage return and its JSON (``value``) ran out there."""
    return text.endswith("\r") and isinstance(value, _Malformed) and value.ran_out


def _is_csv(lines: _Lines, name: str) -> bool:
    """CSV by the file's extension; without a telling one (stdin), unless the first non-blank line is JSON."""
    suffix = Path(name).suffix.lower()
    if suffix in _JSON_SUFFIXES or suffix == ".csv":
        return suffix == ".csv"
    lines.taken = []
    first = next((line for line in lines if line.strip()), "")
    lines.again(lines.taken)
    lines.taken = None
    return bool(first) and not first.lstrip().startswith(("{", "[")) and isinstance(_json_value(first), _Malformed)


def _json_value(line: str):
    if _NOT_UTF8.search(line):
        return _Malformed("not valid UTF-8")
    try:
        return json.loads(line, parse_constant=_no_constant, object_pairs_hook=unique_keys)
    except _Malformed as exc:
        return exc
    except RepeatedKeyError as exc:
        return _Malformed(str(exc))
    except json.JSONDecodeError as exc:
        # Some of json's messages end in "at" ("Invalid control character at"): one "at" before the column.
        malformed = _Malformed(f"not valid JSON ({exc.msg.removesuffix(' at')} at column {exc.colno})")
        malformed.ran_out = exc.pos >= len(line.rstrip())  # the text ended where a value was still open
        return malformed
    except ValueError as exc:  # an integer too long for Python to convert
        return _Malformed(f"not valid JSON ({exc})")
    except RecursionError:
        return _Malformed("not valid JSON (nested too deeply)")


def _no_constant(name: str):
    raise _Malformed(f"not valid JSON ({name} is not a JSON number)")


def _csv_records(lines: _Lines, name: str):
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    reader = csv.reader(lines, strict=True)
    header = None
    while True:
        lines.taken = []
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if header is None:
                raise InputError(f"{name}:{lines.taken[0][0]}: the CSV header line is not valid CSV ({exc})",
                                 field="input") from None
            if str(exc).startswith("field larger than field limit") and _quote_closes(lines):
                # A field too long to score whose quote does close: the record is skipped whole, so that lines
                # inside the field are not read as comments of their own.
                first, last = lines.taken[0][0], lines.taken[-1][0]
                whole = f"; the record (lines {first}-{last}) is skipped whole" if last > first else ""
                yield first, _Malformed(f"a field is over {_CSV_FIELD_LIMIT:,} characters{whole}")
                continue
            # the lines after the record's first one are read again, so a stray quote costs one record
            yield lines.taken[0][0], _Malformed(_csv_problem(exc, lines.taken))
            lines.again(lines.taken[1:])
            continue
        number = lines.taken[0][0]
        if len(row) <= 1 and not "".join(row).strip():
            continue  # a blank line, as in JSONL
        if header is None:
            header = _csv_header(row, name, number)
        elif any(_NOT_UTF8.search(field) for field in row):
            yield number, _Malformed("not valid UTF-8")
        elif len(row) != len(header):
            yield number, _Malformed(f"{len(row)} columns, expected {len(header)}")
        else:
            yield number, _check(dict(zip(header, row)))


def _csv_header(row: list[str], name: str, number: int) -> list[str]:
    header = [column.strip().lower() for column in row]  # "ID", "Text": as spreadsheets capitalise them
    if "id" not in header or "text" not in header:
        other = next((sep for sep in (";", "\t", "|") if len(header) == 1 and sep in header[0]), None)
        hint = (f" (its columns look separated by {other!r}, as some spreadsheets export CSV: save it "
                "comma-separated)" if other else "")
        raise InputError(f"{name}:{number}: read as CSV, but the header line has no 'id' and 'text' columns: "
                         f"{header!r}{hint}", field="input")
    twice = sorted({c for c in header if c and header.count(c) > 1})
    if twice:  # which of the two would be the comment's?
        raise InputError(f"{name}:{number}: the CSV header names column {twice[0]!r} twice: {header!r}", field="input")
    return header


def _quote_closes(lines: _Lines) -> bool:
    """Read on through the record whose field ran over the limit until its quotes pair up at a line's end (a
    closed quoted field holds an even number of quote marks, "" included); False, with what was read still in
    ``lines.taken``, when they do not within a few times the limit (an unclosed quote, most likely)."""
    quotes = sum(line.count('"') for _, line in lines.taken)
    read = sum(len(line) for _, line in lines.taken)
    while quotes % 2:
        if read > 5 * _CSV_FIELD_LIMIT:
            return False
        try:
            line = next(lines)
        except StopIteration:
            return False
        quotes += line.count('"')
        read += len(line)
    return True


def _csv_problem(exc: csv.Error, taken: list) -> str:
    message = str(exc)
    if message == "unexpected end of data":
        problem = "a quote opened in this record is never closed"
    elif message.startswith("field larger than field limit"):
        problem = f"a field is over {_CSV_FIELD_LIMIT:,} characters"
    else:
        problem = f"bad CSV quoting ({message})"
    if len(taken) > 1:
        problem += f"; lines {taken[1][0]}-{taken[-1][0]} are read again as records of their own"
    return problem


def _object_with_id(record):
    """The record if it is a JSON object with a usable 'id', else the _Malformed saying why not."""
    if isinstance(record, _Malformed):
        return record
    if not isinstance(record, dict):
        return _Malformed("not a JSON object")
    problem = _id_problem(record, "id")
    return _Malformed(problem) if problem else record


def _check(record):
    record = _object_with_id(record)
    if isinstance(record, _Malformed):
        return record
    if "text" not in record:
        return _Malformed("missing field 'text'")
    if not isinstance(record["text"], str):
        return _Malformed(f"field 'text' must be a string, got {_json_type(record['text'])}")
    article_id = record.get("article_id")
    if article_id is not None and (isinstance(article_id, bool) or not isinstance(article_id, (str, int))):
        return _Malformed(f"field 'article_id' must be a string or an integer, got {_json_type(article_id)}")
    return record


def _id_problem(record: dict, key: str) -> str | None:
    """Why record[key] cannot be an id (a non-empty string or an integer), or None."""
    if key not in record:
        return f"missing field '{key}'"
    value = record[key]
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return f"field '{key}' must be a non-empty string or an integer, got {_json_type(value)}"
    if isinstance(value, str) and not value.strip():
        return f"field '{key}' is empty"
    if isinstance(value, str) and (bad := LONE_SURROGATE.search(value)):
        return f"field '{key}' holds a lone surrogate ({bad.group()!r}), which cannot be written as UTF-8"
    return None


def _json_type(value) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _unknown_articles(chunk, scorer: Scorer) -> set[str]:
    """The article ids the chunk's comments name that no --articles line registered."""
    return {str(r["article_id"]) for _, r in chunk if isinstance(r, dict) and r.get("article_id") not in (None, "")
            and not scorer.has_article(str(r["article_id"]))}


def _load_articles(scorer: Scorer, path: str) -> int:
    count = skipped = 0
    lines: dict[str, int] = {}
    with _opened("--articles", path, _open_in) as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            article = _article(_json_value(line.removeprefix("\ufeff")))  # a BOM mid-stream: files joined end to end
            if isinstance(article, _Malformed):
                print(f"{path}:{number}: skipped article: {article}", file=sys.stderr)
                skipped += 1
                continue
            if article.id in lines:
                print(f"{path}:{number}: warning: article {article.id!r} is also on line {lines[article.id]}: "
                      "this later one is used", file=sys.stderr)
                scorer.forget_article(article.id)
            else:
                count += 1
            lines[article.id] = number
            scorer.add_article(article)
    if not count:  # empty, a CSV, or other field names: every comment would get no stance, silently
        found = f"none of its {skipped} lines is an article" if skipped else "it is empty"
        raise InputError(f"--articles {path}: {found} (JSON lines, each with an 'id' and a 'title' or 'body'"
                         f"{'; the reasons are above' if skipped else ''})", field="articles")
    return count


def _article(record) -> Article | _Malformed:
    record = _object_with_id(record)
    if isinstance(record, _Malformed):
        return record
    for key in ("title", "body"):
        if record.get(key) is not None and not isinstance(record[key], str):
            return _Malformed(f"field '{key}' must be a string, got {_json_type(record[key])}")
    if not (record.get("title") or "").strip() and not (record.get("body") or "").strip():
        # Stance against no text would be a guess: the comments get none, as under an unknown article.
        return _Malformed("no title and no body: its comments get no stance")
    return Article(str(record["id"]), record.get("title") or "", record.get("body") or "")


def _output_line(record, pieces, scorer, policy) -> dict:
    score = worst_of([s for _, _, s in pieces])
    out = {"id": record["id"], **score.as_dict()}
    if policy is not None:
        lowest_hold = min(c.hold_at for c in policy.clauses)
        evidence = scorer.explain_pieces(pieces, policy.labels, min_score=lowest_hold)
        verdict = policy.decide(score, evidence)
        decided = verdict.as_dict()
        out["action"] = decided["action"]
        out["reasons"] = decided["reasons"]
        # A verdict names what produced it, as the service stores it (DESIGN: verdicts).
        out["model_version"] = scorer.version
        out["policy_version"] = decided["policy_version"]
    return out


def _json_line(obj) -> str:
    """One line of strict JSON (no NaN), readable UTF-8 unless a lone surrogate forces \\u escapes."""
    line = json.dumps(obj, ensure_ascii=False, allow_nan=False)
    if LONE_SURROGATE.search(line):  # evidence quoting a lone surrogate of the comment text
        line = json.dumps(obj, allow_nan=False)
    return line + "\n"


class _Output:
    """The results stream: a write that fails (a full disk, a device that takes none) names --output.

    A regular file is written as ``<file>.partial`` and renamed over ``<file>`` once every line is written,
    so a run that stops early (killed, interrupted, a disk that fills) never leaves a file that looks
    complete, nor destroys the results of an earlier run: interrupted (Ctrl-C, SIGTERM), the lines written
    so far stay in the ``.partial`` file; stopped by an error, it is removed.
    """

    def __init__(self, stream, name: str, final: str | None = None):
        self.stream, self.name, self.final = stream, name, final

    def _do(self, method, *args):
        try:
            return method(*args)
        except BrokenPipeError:  # the reader went away: main() stops quietly
            raise
        except OSError as exc:
            raise InputError(f"--output {self.name}: cannot be written ({exc.strerror or exc})",
                             field="output") from None

    def write(self, text: str) -> None:
        self._do(self.stream.write, text)

    def flush(self) -> None:
        self._do(self.stream.flush)

    def __enter__(self) -> _Output:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.stream is sys.stdout:
            return
        try:
            self._do(self.stream.close)
        except InputError:
            if exc_type is None:  # else the error that stopped the writing is the one to report
                self._discard()
                raise
        if self.final is None:
            return
        if exc_type is None:
            self._do(os.replace, self.stream.name, self.final)
        elif not issubclass(exc_type, KeyboardInterrupt):
            self._discard()

    def _discard(self) -> None:
        if self.final is not None:
            with contextlib.suppress(OSError):
                os.remove(self.stream.name)


def _open_out(name: str) -> _Output:
    if name == "-":
        return _Output(sys.stdout, name)
    if os.path.exists(name) and not os.path.isfile(name):  # a device or a pipe (/dev/stdout): written as it goes
        return _Output(open(name, "w", encoding="utf-8"), name)
    final = os.path.realpath(name)  # through a link: its target is replaced, the link kept
    if os.path.isfile(final) and not os.access(os.path.dirname(final), os.W_OK):
        # A writable file in a folder that takes no new file (no .partial beside it): written in place, as it goes.
        return _Output(open(name, "w", encoding="utf-8"), name)
    partial = partial_path(final)
    stream = open(partial, "w", encoding="utf-8")
    _PARTIAL["path"] = partial
    if os.path.isfile(final):  # the results keep the file's permissions (a private file stays private)
        with contextlib.suppress(OSError):
            shutil.copymode(final, partial)
    return _Output(stream, name, final)


_PARTIAL: dict[str, str] = {}  # the .partial file this run opened, for the message when it is interrupted


def partial_path(output: str) -> str:
    """Where ``moderation score --output FILE`` writes until every line is done."""
    return str(output) + ".partial"


def _utf8_stdout() -> None:
    # JSON lines and explanations are UTF-8 whatever the terminal's locale: a Latin-1 stdout would fail
    # on the first emoji of an id, a comment or an evidence span.
    if (sys.stdout.encoding or "").lower().replace("-", "") != "utf8" and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


def _score_chunk(chunk, name, scorer, policy, out, warn=_to_stderr) -> tuple[int, int]:
    """Score one chunk of (line number, record), write the results, ``warn`` of each line skipped;
    (scored, skipped)."""
    good, bad = [], 0
    for number, rec in chunk:
        if isinstance(rec, _Malformed):
            bad += 1
            warn(f"{name}:{number}: skipped: {rec}")
        else:
            good.append((number, rec))
    ids = [str(r["article_id"]) if r.get("article_id") not in (None, "") else None for _, r in good]
    scored = scorer.score_pieces([r["text"] for _, r in good], ids)  # a long comment in pieces
    written = 0
    for (number, rec), pieces in zip(good, scored):
        result = _output_line(rec, pieces, scorer, policy)
        try:
            line = _json_line(result)
        except ValueError as exc:  # a score that is not a number must not become invalid JSON
            bad += 1
            warn(f"{name}:{number}: skipped: could not write the result ({exc})")
            continue
        out.write(line)
        written += 1
    return written, bad


def _refuse_output_over_an_input(args) -> None:
    """Writing the output truncates its file, and first its ``.partial`` file: neither may be one the command reads."""
    if args.output == "-":
        return
    if os.path.exists(args.output):
        _refuse_writing_over(args, args.output, f"--output {args.output} is")
    if not os.path.exists(args.output) or os.path.isfile(args.output):
        partial = partial_path(os.path.realpath(args.output))
        if os.path.exists(partial):
            _refuse_writing_over(args, partial, f"--output {args.output} is written as {partial} first, which is")


def _refuse_writing_over(args, target: str, said: str) -> None:
    for option, name in (("--input", args.input), ("--articles", args.articles), ("--policy", args.policy),
                         ("--model", args.model)):
        if name is None:
            continue
        if str(name) == "-":  # stdin redirected from the output file (`< results.jsonl`)
            if _stdin_is(target):
                raise InputError(f"{said} the file {option} - reads (stdin is redirected "
                                 "from it): writing it would destroy it; write the results to another file",
                                 field="output")
            continue
        if not os.path.exists(name):
            continue
        if option != "--model" and Path(name).is_dir():
            raise InputError(f"{option} {name}: is a directory, not a file", field=option.lstrip("-"))
        inside = Path(name).is_dir() and Path(target).resolve().is_relative_to(Path(name).resolve())
        if inside or os.path.samefile(name, target):
            raise InputError(f"{said} the file {option} reads ({name}): writing it would "
                             "destroy it; write the results to another file", field="output")


def _stdin_is(path: str) -> bool:
    """Whether standard input is the file at ``path`` (False when there is no real stdin to ask)."""
    try:
        return os.path.samestat(os.fstat(sys.stdin.fileno()), os.stat(path))
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return False


def _refuse_stdin_twice(args) -> None:
    if args.input == "-" and args.articles == "-":
        raise InputError("--input and --articles cannot both be - (stdin can be read only once): "
                         "give the articles as a file", field="articles")


def _opened(option: str, name: str, opener):
    """Open a file an option names; a failure names the option ("--input nope.jsonl: no such file")."""
    try:
        return opener(name)
    except FileNotFoundError:
        missing = "its folder does not exist" if option == "--output" else "no such file"
        raise InputError(f"{option} {name}: {missing}", field=option.lstrip("-")) from None
    except IsADirectoryError:
        raise InputError(f"{option} {name}: is a directory, not a file", field=option.lstrip("-")) from None
    except OSError as exc:
        raise InputError(f"{option} {name}: cannot be opened ({exc.strerror or exc})", field=option.lstrip("-")) from None


def _chunk(records, chars: int = BATCH_CHARS) -> list:
    """The next records to score together: up to BATCH of them, fewer once they hold ``chars``
    characters of text, since scoring's memory follows the characters it reads at once."""
    chunk, size = [], 0
    for number, record in records:
        chunk.append((number, record))
        if isinstance(record, dict) and isinstance(record.get("text"), str):
            size += len(record["text"])
        if len(chunk) >= BATCH or size >= chars:
            break
    return chunk


def chunk_chars(jobs: int) -> int:
    """The characters of text a chunk holds at most: BATCH_CHARS in one process; half that with worker
    processes, so that the last chunks of a run leave a worker idle for less time (on 2,000 news
    comments, 1.3 million characters, with --jobs 2: about 2,650 to 2,730 comments a second against
    2,360 with whole chunks, two rounds measured side by side on 2026-12-07)."""
    return BATCH_CHARS if jobs == 1 else BATCH_CHARS // 2


# What forked worker processes score with: (scorer, policy, input name), set before the pool forks.
_WORKER: tuple | None = None


def _score_in_worker(chunk) -> tuple:
    """``_score_chunk`` in a worker: its JSON lines and messages come back to be written in order. An
    error comes back as its type's name and message (not every exception survives pickling)."""
    scorer, policy, name = _WORKER
    out, notes = io.StringIO(), []
    try:
        written, bad = _score_chunk(chunk, name, scorer, policy, out, notes.append)
    except Exception as exc:  # noqa: BLE001 - reported by the parent, which stops the run
        return "error", type(exc).__name__, str(exc), isinstance(exc, ModerationError)
    return out.getvalue(), notes, written, bad


def _start_worker() -> None:
    """A worker leaves Ctrl-C to the parent (which stops the pool), and exits when the parent is gone
    however it went (killed alone, it would otherwise wait for work for ever, holding the model and the
    parent's output pipe)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the pool stops its workers so; the parent's handler is its own
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True).start()


def _exit_with(sentinel) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)


def _scored(chunks, jobs: int, scorer, policy, name: str, out):
    """(chunk, (JSON lines, messages, scored, skipped)) for each chunk, in input order.

    With one job, each chunk's lines are written to ``out`` and its messages to stderr as they come
    (what comes back is empty). With more, forked worker processes score the chunks, at most two chunks
    per worker read ahead, so memory stays bounded however long the input; the results are the same
    as one process's (tested). The scorer scores one comment first, so that the workers share what it
    loads lazily (the language identifier, about 60 MB) instead of each loading its own. A worker that
    dies (killed, out of memory) or fails stops the run with an error.
    """
    if jobs == 1:
        for chunk in chunks:
            written, bad = _score_chunk(chunk, name, scorer, policy, out)
            yield chunk, ("", [], written, bad)
        return
    global _WORKER
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        raise InputError(f"--jobs {jobs}: this platform cannot fork worker processes; use --jobs 1",
                         field="jobs") from None
    scorer.score("Warm-up before the workers fork.")
    _WORKER = (scorer, policy, name)
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker)
    try:
        pending: deque = deque()

        def oldest():
            done, future = pending.popleft()
            try:
                result = future.result()
            except BrokenProcessPool:
                raise ModerationError(f"a worker process of --jobs {jobs} died (killed, or out of memory?); "
                                      "the results before its chunk were written") from None
            if result[0] == "error":
                _, kind, message, expected = result
                raise ModerationError(message if expected else f"a worker process failed: {kind}: {message}")
            return done, result

        for chunk in chunks:
            try:
                future = pool.submit(_score_in_worker, chunk)
            except BrokenProcessPool:  # a worker died while this process read the input
                while pending:  # what finished is written; the chunk of the one that died raises
                    yield oldest()
                raise ModerationError(f"a worker process of --jobs {jobs} died (killed, or out of memory?); "
                                      "the results before its chunk were written") from None
            pending.append((chunk, future))
            if len(pending) >= 2 * jobs:
                yield oldest()
        while pending:
            yield oldest()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        _WORKER = None


def _chunks(first, records, chars: int = BATCH_CHARS):
    chunk = first
    while chunk:
        yield chunk
        chunk = _chunk(records, chars)


def cmd_score(args) -> int:
    _refuse_stdin_twice(args)
    _refuse_output_over_an_input(args)
    # Score one comment now: a model that loads but cannot score is refused before the output file is touched,
    # not found at the first line (skipped as if the input were at fault).
    scorer = Scorer.load(args.model).self_check()
    policy = load_policy(args.policy) if args.policy else None
    known_articles = _load_articles(scorer, args.articles) if args.articles else None
    done = bad = 0
    unknown: set[str] = set()
    with _opened("--input", args.input, _open_in) as fh:
        records = _records(fh, args.input)
        chars = chunk_chars(args.jobs)
        chunk = _chunk(records, chars)  # opens and checks the input before --output is touched
        bar = tqdm(desc="scoring", unit=" comments", file=sys.stderr, disable=None, mininterval=1)
        with _opened("--output", args.output, _open_out) as out:
            with contextlib.closing(_scored(_chunks(chunk, records, chars), args.jobs, scorer, policy, args.input,
                                            out)) as results:
                for scored_chunk, (lines, notes, scored, skipped) in results:
                    if known_articles is not None:
                        unknown.update(_unknown_articles(scored_chunk, scorer))
                    for note in notes:
                        _to_stderr(note)
                    out.write(lines)
                    done, bad = done + scored, bad + skipped
                    bar.update(len(scored_chunk))
            out.flush()  # a closed pipe is reported here, not at interpreter exit
        bar.close()
    if unknown:
        shown = ", ".join(repr(a) for a in sorted(unknown)[:5]) + (", ..." if len(unknown) > 5 else "")
        print(f"moderation: warning: {len(unknown)} article_id value(s) are not in --articles {args.articles} "
              f"({shown}): those comments have no stance", file=sys.stderr)
    print(f"scored {done} comments, skipped {bad} malformed lines (model {scorer.version})", file=sys.stderr)
    if bad and not done:
        print("moderation: error: no comment could be scored (exit status 1)", file=sys.stderr)
        return 1
    return 0


# What the highlighted text shows as an escape: characters a terminal acts on instead of showing (C0 and C1
# controls, DEL: an ESC sequence can clear the screen or retitle the window, a carriage return overwrite the line),
# the bidi controls and marks that reorder what follows, line and paragraph separators, and bytes 0x80-0x9f of a
# text that is not UTF-8 (lone surrogates here; a terminal not in UTF-8 reads them as C1 controls). A backslash and
# brackets of the text are escaped too, so that an unescaped "[[" or "]]" is only ever a highlight marker.
_ESCAPED = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                      "\udc80-\udc9f\\\\\\[\\]]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\", "[": "\\[", "]": "\\]"}
# A text longer than this is shown only around its evidence, this many characters either side.
_SHOWN_WHOLE = 2_000
_CONTEXT = 80


def _escape(match) -> str:
    char = match.group()
    return _ESCAPES.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def _visible(text: str) -> str:
    """The text safe to print for a person: see ``_ESCAPED``."""
    return _ESCAPED.sub(_escape, text)


def _between(text: str, begin: int, end: int) -> str:
    """``text[begin:end]``, the text before, between or after evidence, shown; of a long text, only the
    ``_CONTEXT`` characters next to evidence, with how many were left out between them."""
    head = _CONTEXT if begin > 0 else 0  # evidence ends at ``begin`` unless it is the text's start
    tail = _CONTEXT if end < len(text) else 0
    left_out = end - begin - head - tail
    if len(text) <= _SHOWN_WHOLE or left_out < _CONTEXT:
        return _visible(text[begin:end])
    return f"{_visible(text[begin:begin + head])}[... {left_out:,} characters ...]{_visible(text[end - tail:end])}"


def _highlight(text: str, evidence) -> str:
    """The text with each evidence span in [[ ]] (overlapping or touching spans merged into one), shown
    with ``_visible``; a text over ``_SHOWN_WHOLE`` characters only around its evidence."""
    out, pos = [], 0
    for begin, end in merge_spans((e.begin, e.end) for e in evidence):
        out += [_between(text, pos, begin), "[[", _visible(text[begin:end]), "]]"]
        pos = end
    return "".join(out + [_between(text, pos, len(text))])


def _evidence(scorer: Scorer, pieces, score, labels, policy, min_score: float) -> list:
    """Evidence for each label scoring at least ``min_score`` and, with a policy, for each at or above its
    clause's hold threshold, as ``score --policy`` gives it: a verdict is never shown without its spans."""
    def least(label: str) -> float:
        clause = policy.clause_for(label) if policy else None
        return min(min_score, clause.hold_at) if clause else min_score

    evidence = scorer.explain_pieces(pieces, labels, min_score=min(map(least, labels)))
    return [e for e in evidence if score.scores.get(e.label, 0.0) >= least(e.label)]


def cmd_explain(args) -> int:
    if hasattr(sys.stdout, "reconfigure"):
        # A text given in bytes that are not UTF-8 arrives (POSIX argv) with those bytes as lone surrogates:
        # printed back as the same bytes, not refused mid-line by a strict UTF-8 stdout.
        sys.stdout.reconfigure(errors="surrogateescape")
    scorer = Scorer.load(args.model).self_check()
    policy = load_policy(args.policy) if args.policy else None
    article_id = None
    if args.article:
        scorer.add_article(Article("cli", "", args.article))
        article_id = "cli"
    pieces = scorer.score_pieces([args.text], [article_id])[0]  # a long text in pieces
    score = worst_of([s for _, _, s in pieces])
    labels = tuple(dict.fromkeys((*POLICY_LABELS, *(policy.labels if policy else ()))))
    evidence = _evidence(scorer, pieces, score, labels, policy, args.min_score)
    print(f"model {scorer.version}   language {score.language}")
    for label, value in score.scores.items():
        print(f"  {label:<16} {value:6.3f}  {'#' * int(round(value * 30))}")
    if score.stance:
        print(f"  stance {score.stance} " + " ".join(f"{k}={v:.2f}" for k, v in score.stance_scores.items()))
    for e in evidence:
        print(f"  evidence {e.label:<16} [{e.begin}:{e.end}] {e.text!r}")
    if evidence:
        print("  " + _highlight(args.text, evidence))
    for offset, _, piece in pieces:
        reading = piece.idea_reading
        if reading is not None and piece.normalised is not None:
            for begin, end in reading.spans:
                b, e = piece.normalised.original_span(begin, end)
                print(f"  aimed at a thing, read as 'bad' by {' and '.join(reading.heads)}: [{b + offset}:{e + offset}] "
                      f"{args.text[b + offset:e + offset]!r}")
        if piece.affirmed:
            print(f"  only affirms a group: {' and '.join(piece.affirmed)} kept at most {AFFIRMED_AT_MOST}")
        if piece.derogation and piece.normalised is not None:
            for begin, end in piece.derogation[0]:
                b, e = piece.normalised.original_span(begin, end)
                print(f"  a statement against a group, {' and '.join(piece.derogation[1])} raised to at least "
                      f"{DEROGATION_FLOOR}: [{b + offset}:{e + offset}] {args.text[b + offset:e + offset]!r}")
    if policy:
        verdict = policy.decide(score, evidence)
        print(f"verdict: {verdict.action}" + _why_unscored(score, policy))
        for r in verdict.reasons:
            measured = f" {r.label} {r.score:.3f} >= {r.threshold:.2f}" if r.label and r.score is not None else ""
            print(f"  - {r.action} ({r.clause_id}){measured}: {r.clause_text}")
        print(f"policy {verdict.as_dict()['policy_version']}")
    else:
        print("(no verdict: give --policy FILE, e.g. data/policy.toml, for the action and the clause it cites)")
    return 0


def _why_unscored(score, policy) -> str:
    kind = policy.unscorable_kind(score)
    if kind == "empty":
        return " (the text is empty once markup is removed: the policy's rule for empty comments)"
    if kind == "no_words":
        return " (the text has no letter: the policy's rule for comments without words)"
    if kind == "non_english":
        return f" (the text reads as language {score.language!r}, not one the policy scores: its rule for those)"
    return ""


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {number}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moderation", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("score", help="score a JSONL or CSV file of comments, writing JSONL",
                       description="Score a JSONL or CSV file of comments, writing one JSONL line per comment. "
                                   "A malformed line is reported on stderr with its line number and skipped.",
                       epilog="exit status: 0 when the comments were scored (or the input holds none); "
                              "1 when the input had lines but every one was skipped as malformed; "
                              "2 on an error (input, model or policy file missing or unusable, or --output "
                              "naming a file the command reads).")
    s.add_argument("--input", required=True,
                   help="UTF-8 JSONL or CSV with id, text[, article_id, parent_id, author_id]; - for stdin. "
                        ".jsonl, .ndjson or .json is read as JSON lines and .csv as CSV; otherwise the first "
                        "non-blank line decides (JSON or a CSV header)")
    s.add_argument("--articles", help="JSONL with id, title, body")
    s.add_argument("--output", default="-", help="JSONL output (default: stdout)")
    s.add_argument("--model", type=Path, help="model directory (default: the shipped model)")
    s.add_argument("--policy", type=Path, help="policy TOML: adds action and reasons")
    s.add_argument("--jobs", type=_positive_int, default=1, metavar="N",
                   help="worker processes scoring in parallel (default 1; at most one per CPU core helps); "
                        "the output is the same, in input order")
    s.set_defaults(func=cmd_score)
    e = sub.add_parser("explain", help="print scores and highlighted evidence for one text")
    e.add_argument("text", help="the comment (plain text or HTML)")
    e.add_argument("--article", help="article text, for stance")
    e.add_argument("--model", type=Path, help="model directory (default: the shipped model)")
    e.add_argument("--policy", type=Path, help="policy TOML: adds the verdict and the clauses it cites")
    e.add_argument("--min-score", type=float, default=0.3, help="explain labels scoring at least this")
    e.set_defaults(func=cmd_explain)
    return parser


class _Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``, a job scheduler), stopped as Ctrl-C stops a run."""


def _terminate(signum, frame) -> None:
    raise _Terminated()


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    _PARTIAL.clear()
    if sys.stderr is None:  # closed (`2>&-`): messages and the progress bar go nowhere, the results still out
        sys.stderr = open(os.devnull, "w", encoding="utf-8")
    if sys.stdout is None:  # closed (`>&-`): fine when the results go to a file
        if getattr(args, "output", "-") == "-":
            print("moderation: error: stdout is closed, so the results could go nowhere: give --output FILE",
                  file=sys.stderr)
            return 2
        sys.stdout = open(os.devnull, "w", encoding="utf-8")
    _utf8_stdout()
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
    try:
        return args.func(args)
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as Unix tools do
        _silence_stdout()
        return 0
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: one line, not a traceback
        output, kept = getattr(args, "output", "-"), _PARTIAL.get("path")
        where = (f"the results written before are in {kept}; --output {output} is written only once every line "
                 "is done" if kept else "the results written before stay written")
        print(f"moderation: {'terminated' if isinstance(exc, _Terminated) else 'interrupted'}: {where}",
              file=sys.stderr)
        return 143 if isinstance(exc, _Terminated) else 130
    except (ModerationError, OSError) as exc:
        print(f"moderation: error: {exc}", file=sys.stderr)
        return 2
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so flushing it at exit cannot raise BrokenPipeError again."""
    with contextlib.suppress(OSError, ValueError):  # no real stdout (an in-process test): nothing to do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())
