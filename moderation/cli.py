"""Command line: ``moderation score`` (files in, JSONL out) and ``moderation explain`` (for a person)."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from itertools import chain, islice
from pathlib import Path

from tqdm import tqdm

from .errors import ModerationError
from .policy import load_policy
from .scorer import Article, Scorer

BATCH = 512


class _Malformed(ValueError):
    pass


def _open_in(name: str):
    if name == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    return open(name, encoding="utf-8", errors="replace", newline="")


def _records(stream, name: str):
    """(line number, record or _Malformed) for each line of a JSONL or CSV input."""
    first = stream.readline()
    if name.lower().endswith(".csv") or (first and not first.lstrip().startswith("{")):
        header = next(csv.reader([first]))
        yield from _csv_records(stream, header)
        return
    for number, line in enumerate(chain([first], stream), 1):
        if line.strip():
            yield number, _json_record(line)


def _json_record(line: str):
    try:
        record = json.loads(line)
    except ValueError as exc:
        return _Malformed(f"not valid JSON ({exc.msg} at column {exc.colno})")
    return _check(record)


def _csv_records(stream, header):
    reader = csv.reader(stream)
    for row in reader:
        number = reader.line_num + 1
        if len(row) != len(header):
            yield number, _Malformed(f"{len(row)} columns, expected {len(header)}")
        else:
            yield number, _check(dict(zip(header, row)))


def _check(record):
    if not isinstance(record, dict):
        return _Malformed("not a JSON object")
    if "id" not in record:
        return _Malformed("missing field 'id'")
    if not isinstance(record.get("text"), str):
        return _Malformed("missing or non-string field 'text'")
    if len(record["text"]) > 20_000:
        return _Malformed("field 'text' is over 20,000 characters")
    return record


def _load_articles(scorer: Scorer, path: str) -> int:
    count = 0
    with _open_in(path) as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                scorer.add_article(Article(str(rec["id"]), str(rec.get("title", "")), str(rec.get("body", ""))))
                count += 1
            except (ValueError, KeyError, TypeError) as exc:
                print(f"{path}:{number}: skipped article: {exc}", file=sys.stderr)
    return count


def _output_line(record, score, scorer, policy) -> dict:
    out = {"id": record["id"], **score.as_dict()}
    if policy is not None:
        lowest_hold = min(c.hold_at for c in policy.clauses)
        evidence = scorer.explain(record["text"], score=score, min_score=lowest_hold)
        verdict = policy.decide(score, evidence)
        out["action"] = verdict.action
        out["reasons"] = [r.as_dict() for r in verdict.reasons]
    return out


def cmd_score(args) -> int:
    scorer = Scorer.load(args.model)
    policy = load_policy(args.policy) if args.policy else None
    if args.articles:
        _load_articles(scorer, args.articles)
    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")
    bad = done = 0
    with _open_in(args.input) as fh:
        records = _records(fh, args.input)
        bar = tqdm(desc="scoring", unit=" comments", file=sys.stderr, disable=None, mininterval=1)
        while chunk := list(islice(records, BATCH)):
            good = []
            for number, rec in chunk:
                if isinstance(rec, _Malformed):
                    bad += 1
                    print(f"{args.input}:{number}: skipped: {rec}", file=sys.stderr)
                else:
                    good.append(rec)
            ids = [str(r["article_id"]) if r.get("article_id") not in (None, "") else None for r in good]
            scores = scorer.score_batch([r["text"] for r in good], ids)
            for rec, score in zip(good, scores):
                out.write(json.dumps(_output_line(rec, score, scorer, policy), ensure_ascii=False) + "\n")
            done += len(good)
            bar.update(len(chunk))
        bar.close()
    out.flush()  # a closed pipe is reported here, not at interpreter exit
    if out is not sys.stdout:
        out.close()
    print(f"scored {done} comments, skipped {bad} malformed lines (model {scorer.version})", file=sys.stderr)
    return 0


def _highlight(text: str, evidence) -> str:
    """The text with each evidence span in [[ ]]; overlapping spans are merged into one."""
    merged: list[list[int]] = []
    for begin, end in sorted((e.begin, e.end) for e in evidence):
        if merged and begin < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([begin, end])
    out, pos = [], 0
    for begin, end in merged:
        out += [text[pos:begin], "[[", text[begin:end], "]]"]
        pos = end
    return "".join(out + [text[pos:]])


def cmd_explain(args) -> int:
    scorer = Scorer.load(args.model)
    policy = load_policy(args.policy) if args.policy else None
    article_id = None
    if args.article:
        scorer.add_article(Article("cli", "", args.article))
        article_id = "cli"
    score = scorer.score(args.text, article_id)
    evidence = scorer.explain(args.text, score=score, min_score=args.min_score)
    print(f"model {scorer.version}   language {score.language}")
    for label, value in score.scores.items():
        print(f"  {label:<16} {value:6.3f}  {'#' * int(round(value * 30))}")
    if score.stance:
        print(f"  stance {score.stance} " + " ".join(f"{k}={v:.2f}" for k, v in score.stance_scores.items()))
    for e in evidence:
        print(f"  evidence {e.label:<16} [{e.begin}:{e.end}] {e.text!r}")
    if evidence:
        print("  " + _highlight(args.text, evidence))
    if policy:
        verdict = policy.decide(score, evidence)
        print(f"verdict: {verdict.action}")
        for r in verdict.reasons:
            print(f"  - {r.action} ({r.clause_id}): {r.clause_text}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moderation", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("score", help="score a JSONL or CSV file of comments, writing JSONL")
    s.add_argument("--input", required=True, help="JSONL or CSV with id, text[, article_id, parent_id, author_id]; - for stdin")
    s.add_argument("--articles", help="JSONL with id, title, body")
    s.add_argument("--output", default="-", help="JSONL output (default: stdout)")
    s.add_argument("--model", type=Path, help="model directory (default: the shipped model)")
    s.add_argument("--policy", type=Path, help="policy TOML: adds action and reasons")
    s.set_defaults(func=cmd_score)
    e = sub.add_parser("explain", help="print scores and highlighted evidence for one text")
    e.add_argument("text")
    e.add_argument("--article", help="article text, for stance")
    e.add_argument("--model", type=Path)
    e.add_argument("--policy", type=Path)
    e.add_argument("--min-score", type=float, default=0.3, help="explain labels scoring at least this")
    e.set_defaults(func=cmd_explain)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as Unix tools do
        _silence_stdout()
        return 0
    except (ModerationError, OSError) as exc:
        print(f"moderation: error: {exc}", file=sys.stderr)
        return 2


def _silence_stdout() -> None:
    """Point stdout at /dev/null so flushing it at exit cannot raise BrokenPipeError again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
