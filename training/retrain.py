"""The retraining loop: ``python -m training.retrain data|train|evaluate|promote|rollback|status|init``.

``make data``      export the moderators' decisions stored by the service (``training.decisions``)
``make train``     train a candidate from the default sources, ``data/`` and the exported decisions
                   into ``registry/versions/<version>/`` (not live)
``make evaluate``  compare the newest candidate with the live model (``training.compare``)
``make promote``   make the candidate live if no gate got worse beyond the tolerance
                   (``FORCE=1 REASON="..."`` overrides, logged)
``make rollback``  make the previous live version live again

Every step says what it did and can be run again: training an existing version (same data and
parameters, whatever day it was trained), initialising a registry that has a live version, or
exporting the same database again changes nothing.
The registry is ``--registry``, else ``$MODERATION_REGISTRY``, else ``REGISTRY`` in
``instance/config.py`` (as for the service), else ``registry/`` (layout: ``training.registry``); the
database of ``make data`` is found the same way (``--database``, ``$MODERATION_DATABASE_URL``,
``DATABASE_URL``, ``instance/moderation.sqlite``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import runpy
import shutil
import sys
import time
import tomllib
from pathlib import Path

from moderation.errors import ModelError
from moderation.labels import HEADS
from moderation.scorer import Scorer, default_model_dir

from . import corpus, sources
from .registry import LIVE_FILE, REGISTRY_ENV, Registry, RegistryError, took_effect

__all__ = ["DEFAULT_TOLERANCE", "TOLERANCE_ENV", "main", "promote_tolerance", "write_model_card"]

DEFAULT_TOLERANCE = 0.01
TOLERANCE_ENV = "MODERATION_PROMOTE_TOLERANCE"
DATABASE_ENV = "MODERATION_DATABASE_URL"
_REPO = Path(__file__).resolve().parent.parent
# Training sources that are the project's own; every other source in a manifest is a public dataset.
_PROJECT_SOURCES = frozenset({"corpus", "decisions"})


def _say(message: str) -> None:
    print(message, flush=True)


def promote_tolerance(registry: Registry) -> float:
    """$MODERATION_PROMOTE_TOLERANCE, else ``tolerance`` under ``[promote]`` in ``<registry>/settings.toml``, else 0.01."""
    if os.environ.get(TOLERANCE_ENV):
        return _tolerance(os.environ[TOLERANCE_ENV], f"${TOLERANCE_ENV}")
    settings = registry.root / "settings.toml"
    if settings.is_file():
        try:
            value = tomllib.loads(settings.read_text()).get("promote", {}).get("tolerance", DEFAULT_TOLERANCE)
        except tomllib.TOMLDecodeError as exc:
            raise RegistryError(f"{settings} is not valid TOML: {exc}") from exc
        return _tolerance(value, f"tolerance under [promote] in {settings}")
    return DEFAULT_TOLERANCE


def _tolerance(value, where: str) -> float:
    try:
        tolerance = float(value)
    except (TypeError, ValueError):
        tolerance = float("nan")
    if not 0 <= tolerance < 1:
        raise RegistryError(f"{where} must be a number from 0 to 1 (a drop in a metric that counts as noise), "
                            f"got {value!r}")
    return tolerance


def _service_setting(given, option: str, env: str, name: str) -> tuple[str | None, str]:
    """A setting shared with the service, and where it came from: the option, $env, then instance/config.py.

    The order is the service's (webhook.config): the environment wins over instance/config.py, and a
    variable set to nothing means the default there too.
    """
    if given:
        return str(given), option
    if env in os.environ:
        return os.environ[env] or None, f"${env}"
    path = _REPO / "instance" / "config.py"
    if path.is_file():
        try:  # Flask's from_pyfile runs the file too; only upper-case names are settings
            value = runpy.run_path(str(path)).get(name)
        except Exception as exc:  # whatever the settings file raises, the file is what to fix
            raise RegistryError(f"could not read {path} (the service's settings): {exc}") from exc
        if value:
            return str(value), f"{name} in {path}"
    return None, f"the default (set {option} or {env})"


def _open_registry(args) -> Registry:
    value, where = _service_setting(args.registry, "--registry", REGISTRY_ENV, "REGISTRY")
    registry = Registry.open(value)
    if registry.root.exists() and not registry.root.is_dir():
        raise RegistryError(f"the registry {registry.root} (from {where}) is a file, not a folder: "
                            "point it at the registry folder")
    return registry


def _database_url(given: str | None) -> tuple[str, Path | None, str]:
    """The service's database, the file when it is the default one, and where the URL came from."""
    url, where = _service_setting(given, "--database", DATABASE_ENV, "DATABASE_URL")
    if url:
        return url, None, where
    path = _REPO / "instance" / "moderation.sqlite"
    return f"sqlite:///{path}", path, where


def _ensure_live(registry: Registry) -> None:
    # init refuses a registry whose LIVE is lost while its history names a live version: putting the shipped
    # model back in production silently would undo every promotion.
    version = registry.init(default_model_dir())
    if version:
        _say(f"registry {registry.root} had no live version: the shipped default model {version} is now live")


def _check_version(registry: Registry, version: str) -> None:
    if version not in registry.versions():
        known = ", ".join(registry.versions()) or "none"
        raise RegistryError(f"no version {version!r} in {registry.versions_dir} (versions there: {known})")


# Steps -------------------------------------------------------------------------------------------------
def cmd_data(args) -> int:
    import sqlalchemy as sa

    from webhook.db import make_engine

    from .decisions import EmptyExport, export_decisions

    registry = _open_registry(args)
    url, path, where = _database_url(args.database)
    if path is not None and not path.is_file():
        _say(f"no database at {path} (set {DATABASE_ENV}): no decisions exported")
        return 0
    try:
        shown = sa_safe(url)
        named = _sqlite_file(url)
        engine = None if named is not None and not named.is_file() else make_engine(url)
    except (sa.exc.ArgumentError, ValueError) as exc:  # the URL itself is not shown: it may hold a password
        _say(f"error: the database URL from {where} is not one the service can use ({exc}): give an SQLAlchemy URL "
             "such as sqlite:////path/to/moderation.sqlite or postgresql+psycopg://user:password@host:5432/dbname")
        return 2
    if engine is None:  # connecting would create an empty file there
        _say(f"error: no database at {named} (from {shown}): check --database or {DATABASE_ENV}")
        return 2
    try:
        report = export_decisions(engine, registry.data_dir, database_label=shown, datasets_root=args.datasets,
                                  check_public=not args.no_public_overlap)
    except sa.exc.SQLAlchemyError as exc:
        _say(f"error: could not read the moderators' decisions from {shown}: {getattr(exc, 'orig', None) or exc} "
             "(is it the service's database? `flask --app webhook migrate` creates its tables)")
        return 2
    except EmptyExport as exc:
        _say(f"error: {exc}")
        return 2
    finally:
        engine.dispose()
    print((registry.data_dir / "REPORT.md").read_text())
    _say(f"wrote {report.rows} decisions ({report.heldout} held out) to {registry.data_dir / 'decisions.jsonl'} "
         f"and the report to {registry.data_dir / 'REPORT.md'}")
    return 0


def _sqlite_file(url: str) -> Path | None:
    """The file an SQLite URL names (None for other databases and in-memory SQLite)."""
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def sa_safe(url: str) -> str:
    """A database URL without its password, for reports."""
    import sqlalchemy as sa

    return sa.engine.make_url(url).render_as_string(hide_password=True)


def cmd_train(args) -> int:
    from .decisions import read_decisions
    from .train import model_version, train

    registry = _open_registry(args)
    _ensure_live(registry)
    exported = registry.data_dir / "decisions.jsonl"
    decisions = exported if exported.is_file() and not args.no_decisions else None
    if args.no_decisions and exported.is_file():
        _say(f"leaving out the exported decisions in {exported} (--no-decisions): "
             "training on the default sources and data/ only")
    elif decisions is None:
        _say("no exported decisions (run `make data` first): training on the default sources and data/ only")
    if decisions is not None:
        read_decisions(decisions)  # a damaged export is named now, not after the public sources are read
    options = {"public_rows": args.public_rows, "decisions": decisions, "decisions_weight": args.decisions_weight}
    # Once: the folder and the manifest are named after the same version, even when training crosses midnight.
    version = model_version(args.datasets, args.data, True, **options)
    # A version is the training day plus a fingerprint of data, parameters and code: the same
    # fingerprint on another day is the same model, rolled back or rejected perhaps, not a new one.
    same = [v for v in registry.versions() if _fingerprint(v) == _fingerprint(version)]
    if same:
        _say(f"version {same[-1]} is already in {registry.versions_dir} (same data and parameters as {version} "
             "would have): nothing to train")
        return 0
    started = time.time()
    scratch = registry.versions_dir / f".training-{version}"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        manifest = train(scratch, args.datasets, args.data, True, version=version, **options)
        write_model_card(scratch, manifest)
        os.replace(scratch, registry.version_dir(version))  # a half-written version never appears
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    _say(f"trained candidate {version} into {registry.version_dir(version)} in {time.time() - started:.0f} s "
         f"(not live; live is {registry.live()}). Next: make evaluate")
    return 0


def _fingerprint(version: str) -> str:
    """The part of a version name after the training day (``YYYYMMDD-<fingerprint>``)."""
    return version.partition("-")[2]


def _public_sources(manifest: dict) -> set[str]:
    """The public datasets a model was trained on, from its manifest."""
    data = manifest.get("training_data", {})
    names = set(data.get("sources", []))
    for by_source in data.get("rows_by_source", {}).values():
        names |= {name for name, rows in by_source.items() if rows}
    return names - _PROJECT_SOURCES


def _datasets_missing(given: Path | None, models: dict[str, Scorer]) -> str | None:
    """Why the comparison cannot be fair without the public datasets, or None when it can."""
    root = sources.datasets_dir(given)
    if root.is_dir():
        return None
    trained = {version: sorted(_public_sources(s.manifest)) for version, s in models.items()}
    trained = {version: names for version, names in trained.items() if names}
    if not trained:
        return None
    where = "--datasets" if given else (f"${sources.DATASETS_ENV}" if os.environ.get(sources.DATASETS_ENV)
                                        else "the default")
    models_text = "; ".join(f"{v}: {', '.join(names)}" for v, names in trained.items())
    return (f"no public datasets at {root} (from {where}), but the models were trained on public sources "
            f"({models_text}): without their validation splits those gates would be left out. Set "
            f"{sources.DATASETS_ENV} or --datasets to the datasets folder; nothing was written")


def _export_hash(decisions: Path) -> str | None:
    """SHA-256 of the decisions export (``make data``), or None when there is none."""
    try:
        return hashlib.sha256(decisions.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def cmd_evaluate(args) -> int:
    from .compare import compare, discard_comparison, fixed_sets, verdict_line

    registry = _open_registry(args)
    _ensure_live(registry)
    candidate = args.version or registry.candidate()
    if not candidate:
        _say("no candidate: every version in the registry has been live. Train one with `make train`")
        return 1
    _check_version(registry, candidate)
    live = registry.live()
    if live not in registry.versions():
        raise RegistryError(f"{registry.root / LIVE_FILE} names {live}, which is not a version in "
                            f"{registry.versions_dir}: restore that folder or make another version live")
    live_scorer, cand_scorer = Scorer.load(registry.version_dir(live)), Scorer.load(registry.version_dir(candidate))
    missing = _datasets_missing(args.datasets, {live: live_scorer, candidate: cand_scorer})
    if missing:
        _say(f"error: {missing}")
        return 2
    subsets = [s.manifest.get("params", {}).get("public_rows_per_source") for s in (live_scorer, cand_scorer)]
    if subsets[0] != subsets[1]:
        _say(f"warning: live and candidate were trained on different public subsets ({subsets[0]} and "
             f"{subsets[1]} rows per source; None = all): the comparison measures that difference too")
    decisions = registry.data_dir / "decisions.jsonl"
    judged = _export_hash(decisions)
    trained_on = cand_scorer.manifest.get("training_data", {}).get("sha256", {}).get("decisions/decisions.jsonl")
    if trained_on and judged and trained_on != judged:
        _say("warning: the decisions were exported again after this candidate was trained; its held-out rows "
             "may differ from the ones it left out (run `make train` again for a clean comparison)")
    tolerance = promote_tolerance(registry)
    out = registry.version_dir(candidate) / "evaluation"
    # From here on the earlier verdict is stale: an evaluation that fails or is interrupted leaves none to promote on.
    discard_comparison(out)
    sets = fixed_sets(args.datasets, decisions if judged else None, args.data)
    result = compare(live_scorer, cand_scorer, sets, out, tolerance, decisions_sha256=judged)
    write_model_card(registry.version_dir(candidate), cand_scorer.manifest, result)
    for gate in result["gates"]:
        mark = "WORSE" if gate["worse"] else ("(drop within noise)" if gate["delta"] < -result["tolerance"] else "")
        _say(f"  {gate['set']:<24} {gate['label']:<16} {gate['metric']:<9} live {gate['live']:.3f}  "
             f"candidate {gate['candidate']:.3f}  {gate['delta']:+.3f} {mark}")
    _say(f"report: {out / 'README.md'}")
    _say(verdict_line(result))
    return 0


def cmd_promote(args) -> int:
    from .compare import judge

    registry = _open_registry(args)
    _ensure_live(registry)
    candidate = args.version or registry.candidate()
    if not candidate:
        _say("no candidate to promote: train one with `make train`")
        return 1
    _check_version(registry, candidate)
    if args.force and not (args.reason or "").strip():
        _say('refusing: FORCE=1 needs REASON="why this candidate goes live despite its evaluation"')
        return 2
    live = registry.live()
    comparison = registry.version_dir(candidate) / "evaluation" / "comparison.json"
    detail: dict = {}
    tolerance = promote_tolerance(registry)
    if comparison.is_file():
        result = json.loads(comparison.read_text())
        if result["live"] != live and not args.force:
            _say(f"candidate {candidate} was evaluated against {result['live']}, but live is now {live}: "
                 "run `make evaluate` again")
            return 2
        evaluated_at = result.get("tolerance", tolerance)  # older comparisons did not store it
        if not math.isclose(evaluated_at, tolerance) and not args.force:
            _say(f"candidate {candidate} was evaluated at tolerance {evaluated_at}, but the tolerance is now "
                 f"{tolerance}: run `make evaluate` again")
            return 2
        # Older comparisons did not store it: read as judged on no export, which holds while there is none.
        judged, current = result.get("decisions_sha256"), _export_hash(registry.data_dir / "decisions.jsonl")
        if judged != current and not args.force:
            _say(_export_changed(candidate, judged, current, registry.data_dir / "decisions.jsonl"))
            return 2
        verdict = judge(result["gates"], evaluated_at)
        detail = {"evaluated_against": result["live"], "tolerance": evaluated_at,
                  "worse": [f"{g['label']} ({g['set']}, {g['metric']} {g['live']} -> {g['candidate']})"
                            for g in verdict["worse"]], "decisions_sha256": judged}
        if not math.isclose(evaluated_at, tolerance):
            detail["tolerance_now"] = tolerance
        if judged != current:
            detail["decisions_sha256_now"] = current
    elif not args.force:
        _say(f"candidate {candidate} has not been evaluated: run `make evaluate` first")
        return 2
    else:
        verdict = {"promotable": False, "worse_labels": []}
        detail = {"evaluated_against": None}
    if not verdict["promotable"] and not args.force:
        _say(f"NOT PROMOTED: candidate {candidate} is worse than live {live} beyond {verdict['tolerance']} on: "
             + "; ".join(detail["worse"]))
        _say('to promote it anyway: make promote FORCE=1 REASON="..." (logged)')
        return 1
    # Only an evaluation against the version being replaced, at today's tolerance, on today's decisions export,
    # lets a candidate go live as a plain promotion; anything else that --force lets through is an override.
    evaluated = (live is not None and detail["evaluated_against"] == live and "tolerance_now" not in detail
                 and "decisions_sha256_now" not in detail)
    action = "promote" if verdict["promotable"] and evaluated else "override"
    try:
        event = registry.set_live(candidate, action, args.user, args.reason or "passed evaluation", detail)
    except RegistryError as exc:
        _say(f"NOT PROMOTED: {exc}")
        return 2
    _say(f"{'promoted' if action == 'promote' else 'promoted by override'}: live is now {candidate} "
         f"(was {event['from']}); logged in {registry.root / 'history.jsonl'}")
    return 0


def _export_changed(candidate: str, judged: str | None, current: str | None, path: Path) -> str:
    if judged is None:
        change = f"without the moderators' decisions, but {path} holds an export now"
    elif current is None:
        change = f"on the moderators' decisions in {path}, which is gone now"
    else:
        change = f"on another export of the moderators' decisions: {path} has changed since (`make data` ran again?)"
    return f"candidate {candidate} was evaluated {change}: run `make evaluate` again"


def cmd_rollback(args) -> int:
    registry = _open_registry(args)
    try:
        event = registry.rollback(args.user, args.reason or "")
    except RegistryError as exc:
        _say(f"no rollback: {exc}")
        return 1
    _say(f"rolled back: live is now {event['to']} (was {event['from']}); logged in {registry.root / 'history.jsonl'}")
    return 0


def cmd_init(args) -> int:
    registry = _open_registry(args)
    version = registry.init(Path(args.model) if args.model else default_model_dir(), args.user)
    _say(f"registry {registry.root}: " + (f"{version} is the first live version" if version
                                          else f"already initialised; live is {registry.live()}"))
    return 0


def cmd_status(args) -> int:
    registry = _open_registry(args)
    live, candidate = registry.live(), registry.candidate()
    try:
        registry.check_live_not_lost()
        lost = None
    except RegistryError as exc:
        lost = str(exc)
    none = ("(none: LIVE is missing, see the warning below)" if lost
            else "(none: run `make promote`, or `python -m training.retrain init`)")
    _say(f"registry {registry.root}\nlive: {live or none}\ncandidate: {candidate or '(none)'}")
    if lost:
        _say(f"warning: {lost}")
    if live and live not in registry.versions():
        _say(f"warning: {registry.root / LIVE_FILE} names {live}, but {registry.versions_dir / live} is not a "
             "version (missing, or no manifest.json): the service cannot load it. Restore that folder, or make "
             "another version live (python -m training.retrain promote --version V --force --reason ...)")
    for version in registry.versions():
        marks = " <- live" if version == live else (" <- candidate" if version == candidate else "")
        _say(f"  {version}{marks}")
    events = registry.history()
    for event, done in list(zip(events, took_effect(events, live)))[-5:]:
        _say(f"  {event['time']} {event['action']:<8} {event['from']} -> {event['to']} by {event['user']}: {event['reason']}"
             + ("" if done else " (not applied: LIVE was not changed)"))
    return 0


# Model card --------------------------------------------------------------------------------------------
_LIMITATIONS = [
    "English only: other languages are detected and reported, and the example policy holds them.",
    "Bag-of-n-grams: it sees words, not meaning. Negation, quotation (counter-speech) and sarcasm are only "
    "partly handled; see the behaviour cases in the evaluation report.",
    "Public training text is mostly Wikipedia talk pages, tweets and Civil Comments; tweets carry a known "
    "dialect bias (Davidson et al.), down-weighted but not removed.",
    "Moderators' decisions teach the site's own policy: they carry the moderators' judgement and its biases, "
    "and a rejection without a reason code teaches only the overall toxicity score.",
    "Probabilities are calibrated on pooled training data: tune thresholds in the site's policy on its own data.",
]


def write_model_card(directory: Path, manifest: dict, comparison: dict | None = None) -> None:
    """MODEL_CARD.md for a registry version: data with licences, metrics per label and slice, limitations."""
    licences = {s.name: s.licence for s in sources.SOURCES.values()}
    data = manifest.get("training_data", {})
    lines = [f"# Model card: moderation {manifest.get('model_version')}", "",
             "Linear models over hashed word and character n-grams of normalised text: one calibrated "
             "logistic-regression head per label (" + ", ".join(HEADS) + ") and a one-vs-rest stance head "
             "(favor, against, neutral, unrelated).", "",
             f"Trained {manifest.get('trained_at') or manifest.get('created')} from git commit "
             f"{manifest.get('git_commit')}; parameters: `{json.dumps(manifest.get('params', {}), sort_keys=True)}`.",
             "", "## Training data", "", "| source | licence |", "|---|---|"]
    for name in data.get("sources", []):
        licence = {"corpus": "project corpus, written by us (data/README.md)",
                   "decisions": "this site's moderators' decisions, exported by `make data`"}.get(name, licences.get(name))
        lines.append(f"| {name} | {licence} |")
    lines += ["", f"Rows: {data.get('rows')}. SHA-256 of every file read is in `manifest.json`.", ""]
    if manifest.get("params", {}).get("public_rows_per_source") is not None:
        lines += [f"Trained on a subset: at most {manifest['params']['public_rows_per_source']} rows per public "
                  "source (0: corpus and decisions only).", ""]
    lines += ["## Metrics", ""]
    if comparison is None:
        lines += ["Not evaluated yet: `make evaluate` compares this version with the live one and fills this in.", ""]
    else:
        lines += [f"Against live {comparison['live']} (`evaluation/README.md`): "
                  f"{'promotable' if comparison['verdict']['promotable'] else 'not promotable'} at tolerance "
                  f"{comparison['tolerance']}.", "", "| set | label | slice | n | ROC AUC | F1@0.5 |",
                  "|---|---|---|---|---|---|"]
        for set_name, m in comparison["metrics"]["candidate"].items():
            for label, by_slice in m.get("labels", {}).items():
                for slice_name, v in by_slice.items():
                    if v["n"] >= 20 and v["positives"] > 0:
                        auc = f"{v['roc_auc']:.3f}" if v.get("roc_auc") is not None else ""
                        lines.append(f"| {set_name} | {label} | {slice_name} | {int(v['n'])} | {auc} | {v['f1']:.3f} |")
            if "stance_macro_f1" in m:
                lines.append(f"| {set_name} | stance macro-F1 | all | | | {m['stance_macro_f1']:.3f} |")
        lines.append("")
    lines += ["## Known limitations", "", *[f"- {item}" for item in _LIMITATIONS], ""]
    (Path(directory) / "MODEL_CARD.md").write_text("\n".join(lines))


# Command line ------------------------------------------------------------------------------------------
def _rows(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of rows, 0 or more, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training.retrain", description=__doc__.splitlines()[0])
    parser.add_argument("--registry", type=Path, default=None, help="registry folder (default: $MODERATION_REGISTRY, "
                        "else REGISTRY in instance/config.py, else registry/)")
    parser.add_argument("--datasets", type=Path, default=None, help="public datasets folder")
    parser.add_argument("--data", type=Path, default=corpus.DATA_DIR, help="the project's data/ folder")
    parser.add_argument("--user", default=None, help="who is acting (default: $MODERATION_USER or the login name)")
    # --user is also taken after the command ("rollback --user ana"), where people put it.
    user = argparse.ArgumentParser(add_help=False)
    user.add_argument("--user", default=argparse.SUPPRESS, help="who is acting")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, **kwargs) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[user], **kwargs)

    d = command("data", help="export the moderators' decisions with a data report")
    d.add_argument("--database", help="SQLAlchemy URL (default: $MODERATION_DATABASE_URL, else DATABASE_URL in "
                   "instance/config.py, else instance/moderation.sqlite)")
    d.add_argument("--no-public-overlap", action="store_true", help="do not check overlap with the public sources")
    d.set_defaults(func=cmd_data)
    t = command("train", help="train a candidate version into the registry")
    t.add_argument("--public-rows", type=_rows, default=None,
                   help="cap each public source at N rows (0: corpus and decisions only); for tests and quick runs")
    t.add_argument("--decisions-weight", type=float, default=4.0)
    t.add_argument("--no-decisions", action="store_true", help="leave the exported decisions out")
    t.set_defaults(func=cmd_train)
    e = command("evaluate", help="compare the candidate with the live model")
    e.add_argument("--version", help="the version to evaluate (default: the newest candidate)")
    e.set_defaults(func=cmd_evaluate)
    p = command("promote", help="make the candidate live if it is not worse beyond the tolerance")
    p.add_argument("--version", help="the version to promote (default: the newest candidate)")
    p.add_argument("--force", action="store_true", help="promote even if worse (needs --reason; logged)")
    p.add_argument("--reason", default="")
    p.set_defaults(func=cmd_promote)
    r = command("rollback", help="make the previous live version live again")
    r.add_argument("--reason", default="")
    r.set_defaults(func=cmd_rollback)
    i = command("init", help="copy the shipped default model in as the first live version")
    i.add_argument("--model", help="model directory (default: the shipped default model)")
    i.set_defaults(func=cmd_init)
    command("status", help="live version, candidate, versions and recent history").set_defaults(func=cmd_status)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (RegistryError, ModelError, OSError) as exc:  # a refused model file, a registry that is a file...
        _say(f"error: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
