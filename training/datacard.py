"""Write the corpus data card, ``data/README.md``: the prose below plus tables counted from the files.

``make datacard`` rewrites it; ``tests/test_corpus.py`` fails when the committed card is stale.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
from sklearn.metrics import cohen_kappa_score

from .corpus import DATA_DIR, TEST_PARTS, load_corpus

__all__ = ["double_check", "main", "render"]

CHECKED_FIELDS = ("profanity", "personal_attack", "attack_target", "threat", "identity_attack", "incitement",
                  "spam", "language", "stance", "action")


def double_check(comments: pd.DataFrame, data_dir: Path = DATA_DIR) -> pd.DataFrame:
    """Agreement between the corpus labels and the blind second labelling of a random 10%."""
    second = pd.DataFrame([json.loads(line) for line in
                           (Path(data_dir) / "double_check.jsonl").read_text(encoding="utf-8").splitlines()])
    first = comments.set_index("id").loc[second["id"]]
    rows = []
    for field in CHECKED_FIELDS:
        a = first[field].fillna("none").astype(str).to_numpy()
        b = second[field].fillna("none").astype(str).to_numpy()
        rows.append({"field": field, "disagreements": int((a != b).sum()),
                     "disagreement rate": f"{(a != b).mean():.1%}",
                     "Cohen's kappa": f"{cohen_kappa_score(a, b):.2f}" if len(set(a) | set(b)) > 1 else "n/a"})
    return pd.DataFrame(rows)


def _table(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _counts(series: pd.Series, name: str, total: int) -> str:
    counts = series.value_counts()
    frame = pd.DataFrame({name: counts.index, "comments": counts.values,
                          "share": [f"{v / total:.1%}" for v in counts.values]})
    return _table(frame)


def render(data_dir: Path = DATA_DIR) -> str:
    articles, comments = load_corpus(data_dir)
    n = len(comments)
    section = comments["article_id"].map(articles.set_index("id")["section"])
    labels = pd.DataFrame([
        {"label": label, "comments": int(comments[label].sum()), "share": f"{comments[label].mean():.1%}"}
        for label in ("profanity", "personal_attack", "incitement", "threat", "identity_attack", "spam")])
    tags = comments["tags"].explode().dropna()
    depth = _depths(comments)
    per_section = pd.DataFrame({
        "section": sorted(section.unique()),
    })
    per_section["articles"] = per_section["section"].map(articles["section"].value_counts())
    per_section["comments"] = per_section["section"].map(section.value_counts())
    rejected = section[comments["action"] == "reject"].value_counts()
    per_section["rejected"] = per_section["section"].map(rejected).fillna(0).astype(int)
    agreement = double_check(comments, data_dir)
    stance = _stance_disagreements(comments, data_dir)
    checked_ids = [json.loads(line)["id"] for line in (Path(data_dir) / "double_check.jsonl").read_text().splitlines()
                   if line.strip()]
    checked = len(checked_ids)
    checked_parts = sorted({i.split("-")[1] for i in checked_ids})
    part = comments["id"].str.split("-").str[1]
    unchecked_parts = sorted(set(part.unique()) - set(checked_parts))
    sampled = int(part.isin(checked_parts).sum())
    later = (f"\nThe {', '.join(f'`{p}`' for p in unchecked_parts)} part{'s were' if len(unchecked_parts) > 1 else ' was'} "
             f"written after the check and {'are' if len(unchecked_parts) > 1 else 'is'} not in the sample, so "
             f"{checked / n:.1%} of all comments are double-checked." if unchecked_parts else "")
    test_articles, test_comments = int(articles["test"].sum()), int(comments["test"].sum())
    held_out = " and ".join(f"`{p}`" for p in TEST_PARTS)
    plural = "s" if len(TEST_PARTS) > 1 else ""
    by_section = articles["section"].value_counts()
    few, many = int(by_section.min()), int(by_section.max())
    smallest = _words(sorted(by_section[by_section == few].index))
    largest = _words(sorted(by_section[by_section == many].index))
    behaviour = pd.read_json(Path(data_dir) / "behaviour" / "cases.jsonl", lines=True)
    by_category = behaviour["category"].value_counts().sort_index()
    behaviour_total, behaviour_categories = len(behaviour), len(by_category)
    behaviour_list = ", ".join(f"`{c}` {k}" for c, k in by_category.items())
    rule_attacks = sum(1 for line in (Path(data_dir) / "behaviour" / "idea_rule_attacks.jsonl").read_text().splitlines()
                       if line.strip())
    functional = json.loads((Path(data_dir) / "behaviour" / "functional.json").read_text())
    functional_cases, functional_groups = len(functional["cases"]), len(functional["groups"])
    homonyms = pd.read_json(Path(data_dir) / "behaviour" / "homonyms.jsonl", lines=True)["set"].value_counts()
    blind = pd.read_json(Path(data_dir) / "behaviour" / "functional_blind.jsonl", lines=True)
    identity_blind = pd.read_json(Path(data_dir) / "behaviour" / "identity_blind.jsonl", lines=True)
    return f"""# Data card: the moderation news-comment corpus

<!-- Generated by `make datacard` (training/datacard.py) from the files in data/; do not edit by hand. -->

## What it is
{len(articles)} short news articles and {n:,} reader comments posted under them, in threads, written and
labelled by the project for training and testing a comment-moderation model. Every article, comment and
author handle is fictional; no text was copied from any publication or dataset. Files, fields and the
test split are described in [`FORMAT.md`](FORMAT.md), the labels in [`LABELLING.md`](LABELLING.md), the
example discussion policy the `action` labels follow in [`policy.toml`](policy.toml).

## How it was written
Each part (`data/corpus/*-<part>.jsonl`) was written thread by thread for its articles, by a writer
working from the guideline: the article first (with a one-sentence `claim`, so stance is well defined),
then top-level comments and replies as readers would post them (typos, sarcasm, capitals, quotes, one-word
reactions, rants, civil and uncivil disagreement, a few comments in other languages, some spam). Each
comment was labelled when it was written, against `LABELLING.md`. The hard cases the model must learn
(hard negatives such as counter-speech and negated hate) were written on purpose, in proportions set in
the corpus issue; two later parts (`locl`, local news, and `pubs`, a seaside town's pubs, levies,
football club and hospital) were written for one of them, violent words used figuratively ("this will
kill the high street", "we slaughtered them 4-0"), beside real threats in the same settings, and a
third (`thrt`, a market town's courts, landlords, referee, MPs' surgeries and A&E) for threats made
without the word "kill" (running someone down, petrol through a letterbox, "I know what car you
drive"), beside innocent uses of the same words (a project that ran over budget, a broken leg in a
cup tie, a torch in a power cut). A last part (`chat`, ten stories from sport to the council) holds short,
informal replies ("hahaha ty", "this right here", "bruh we out here writing essays AND texting,
relax"), two thirds of them clean, beside short replies that do swear or insult ("piss off you
muppet"): the public tweets teach that "yo", "lol" or "lmao" are abuse, since nearly every tweet
holding them in that data is. And `idea` (six stories, 90 comments) aims insult words at plans, laws,
products and columns ("Garbage plan from start to finish.", "the dumbest idea this council has ...")
beside the same kind of words aimed at people ("Only a total moron thinks ..."), since the public data
taught that those words are a personal attack whatever they describe; trained on, it barely moved that
(README), so, like `thrt`, it is held out whole in the test split, to measure it. Then `dmnd`
(ten stories that have readers calling for consequences: an undeclared contract, a sacked manager, a
data leak), holds short civil demands ("He should resign.", "Someone should look into this.", "I'll be
waiting for an apology.", "Lock her up") beside threats made in the same words ("He should be shot.",
"I'll be waiting outside your office"), a quarter of them: in the earlier parts most comments of the
form "X should be ..." were violent, and the model had learnt that "He should resign." is a threat.
Trained on, it did not help more than it cost (README), so it too is held out whole, to measure that.
The last, `spam` (ten stories that draw both: scam texts posing as the council, a paywall's new price,
a support fund's helpline, a crypto fraud trial), was written for the spam head: 45 adverts and scams,
each unlike the others (work from home, betting codes, fake giveaways, essay mills, links spelt out with
spaces, phishing that copies the story's own scam, four in other languages), beside readers' comments
that look like them and are not (a source's web address, the council helpline's number, a scam text
quoted to warn others, a discount code the article gave, a market trader on her own new stall). It grew
twice on 2026-12-07, by fourteen stories: 87 more adverts of the kinds the head had missed (dating
approaches, phishing written as an official notice, giveaways, work-from-home pitches written as a
sympathetic reply, job and loan offers in Polish, Romanian, Portuguese, Spanish, German and French,
crypto boasts), and 209 readers' comments that share their words (free school meals and parking, pay
and second jobs, helplines, council and charity pages, quoted scam texts). A third addition the same
day, six stories (scam refund emails, a charity fun run and a hospital appeal, fake ticket sellers,
a "hi mum" scam, fake job adverts), was written after the head rejected readers who quoted a scam to
warn others, posted a food bank's donation page or named a fake ticket account: 75 more such readers'
comments (scam texts quoted word for word, fake accounts named and reported, fundraising and council
pages, real helplines, a shop recommended in passing, a community event's times and prices) among 121
ordinary ones, and one advert per story, each answered by a reader warning about it. 138 adverts in
all, beside 494 readers' comments in 30 stories. It is split by article like the first parts.
Then `life` (sixteen stories on everyday subjects: a recipe column, allotments, a pet show, a
garden centre, DIY, a book festival, a model railway club, a flight delay, a village fete), was written
because the model read rare everyday words as abuse ("Mushrooms are tasty." scored 0.69 for toxicity): 332
comments, 85% clean and full of ordinary concrete words, 41 of them holding innocent words that hold or
resemble swear words (cockpit, shiitake, pussy willow, spotted dick, hoeing, water butt, blue tits), beside
profanity, insults, two threats, two identity attacks and four adverts in the same settings. Trained on, it
did not help more than it cost (`training/corpus.py` has the figures), so it is held out whole, to measure that.
The last, `hate` (sixteen stories where readers argue about groups of people: asylum housing, a mosque's
planning application, trans athletes, a benefits reform, a Traveller site, a gay couple's adoption, an
antisemitic incident), was written on 2026-12-07 after functional tests written blind found that hate said
without a slur or swear word was mostly missed: 373 comments, a third of them identity hate in many forms
(derogation, dehumanising metaphors, threats without swear words, hate phrased as a question or an opinion,
negated positives, hate carried by a pronoun in a second sentence, masked slurs), beside neutral and positive
mentions of the same groups (self-identification too), counter-speech quoting hate to condemn it, negated hate,
civil criticism of policies and institutions, personal attacks about no group and swearing at no one. A review
found style tells (quotes and numbers nearly only in clean comments, hateful comments shorter and never replies),
near-copies of other parts' comments and no hate against majority groups; the part was revised the same day (81
comments reworded, 37 added, 25 of them hate against white, English, Christian, male and straight people). Four
more stories (an asylum hotel closing, a market hall's new stalls, a trans swimming session, buggies and wheelchair
spaces on buses) were added the same day, 120 comments, because the model did not know most slurs for protected
groups (the public data barely holds them): 69 hateful comments using one, masked or plain, beside 25 quoting one
to condemn it and 26 clean ones; a review found them written to the word list (two slurs in one comment, American
slurs in British voices, typos only in the hateful ones), and they were revised. It is split by article like the
first parts, and trains the identity-attack head only (`training/train.py`, `PART_HEADS`, has the figures).
So the label mix is **not** the mix of a real comment section: real sections have far fewer violations.

## Double check
A second annotator relabelled {checked / sampled:.0%} of the comments ({checked} of {sampled:,}) blind: a random 10% (seed
2026) of the parts written first, and a sample of each of `idea`, `dmnd` and `spam` when they were written (10,
30 and 13 comments; in `dmnd` every eighth, in `spam` every tenth), and of each of the `spam` part's two
additions (24 and 14 comments, at random) and 60 of its third (at random), and every tenth comment of `hate` (34)
and every eighth of its four slur stories (15). It saw the article title, claim, parent
comment and text, never the first labels.{later} Its labels are in
[`double_check.jsonl`](double_check.jsonl). Disagreement per field:

{_table(agreement)}

Stance is the softest label: {stance['neutral']} of its {stance['total']} disagreements involve
neutral on one side, and {stance['replies']} are replies (replies are {stance['reply_share']} of the sample),
which often argue with another commenter without taking a side on the article. The first labels were
kept; the guideline's borderline table records the calls both annotators found hard.

## Counts
{n:,} comments, {int(comments['parent_id'].notna().sum()):,} of them replies (deepest reply {depth} levels
down), {comments['author'].nunique():,} distinct author handles, {len(articles)} articles.

### Labels
{_table(labels)}

### Expected action under `policy.toml`
{_counts(comments['action'], 'action', n)}

### Stance toward the article's claim
{_counts(comments['stance'], 'stance', n)}

### Language
{_counts(comments['language'], 'language', n)}

### Tags (a comment may carry several)
{_counts(tags, 'tag', n)}

### Topics
{_table(per_section)}

## Test split
One article in five, chosen by a hash of its id (`training/corpus.py`), is held out with all its
comments, and so is every article of the {held_out} part{plural} (`TEST_PARTS`), written to test one behaviour on
text no model has seen: {test_articles} articles, {test_comments} comments. `make train` never sees
them; `make evaluate` reports the model's per-label, stance and action metrics on them
(`docs/evaluation/README.md`, where each held-out part is also a slice of its own).

## Behaviour cases (`data/behaviour/`)
Hand-written test cases, never trained on; `make evaluate` and the tests read them.
- `cases.jsonl`: {behaviour_total} short comments, each with a label and the side of 0.5 its score should
  fall on, in {behaviour_categories} categories ({behaviour_list}). `idea_criticism` and `insult_at_person`
  (60 each: the same insult words aimed at things and at people) were written by a helper that saw neither
  the model nor the scoring rule they test (`moderation/targets.py`); the others by the project.
- `idea_rule_attacks.jsonl`: {rule_attacks} personal attacks that helpers wrote to get past earlier versions
  of that rule, with the pattern each probes; `tests/test_targets.py` checks the rule leaves them as written.
- `functional.json`: {functional_cases} templates, filled with {functional_groups} identity groups, for the
  functional probes of `make evaluate` (hateful and non-hateful halves).
- `homonyms.jsonl`: {homonyms.get("innocent", 0)} innocent comments holding everyday words that are, hold or
  resemble swear words and insults (a bastard file, rats in the shed, Scunthorpe, a literal pig), and
  {homonyms.get("abusive", 0)} abusive ones using the same kinds of words, each with the word at issue. Written
  on 2026-12-07 by a helper that saw neither the model nor its word lists, to measure how many innocent
  comments the example policy holds (`make evaluate`, `tests/test_behaviour.py`). The list of set phrases
  that normalisation reads in their innocent sense (`lexicon.INNOCENT_SENSE_PHRASES`) was written before
  these comments were read and has not been changed for them.
- `functional_blind.jsonl` and `identity_blind.jsonl`: {len(blind)} functional hate-speech cases ({int(blind["hateful"].sum())}
  hateful, in {blind["functionality"].nunique()} functionalities: derogation, threats, slurs, questions, opinions,
  counter-speech, negated hate, abuse of things, non-hateful profanity, ...) and {len(identity_blind)} neutral or
  positive sentences naming {identity_blind["group"].nunique()} groups, written on 2026-12-07 by a helper that saw
  neither the model, its data nor `functional.json`, in the style of published functional test suites and
  identity-term probes (our own wording). Nothing is tuned on them: `make evaluate` reports them as held-out
  measurements of the issue's functional and identity-term bars.

## Known gaps
- Written by the project, not collected: real readers are more repetitive, more off-topic and far less
  often abusive. Use the corpus to teach and test behaviours, not to estimate real violation rates.
- One writer per part: vocabulary and pet phrases repeat within a part; the article-disjoint test split
  partly but not fully controls for that.
- British and American English only; the {int((comments['language'] != 'en').sum())} non-English comments
  are there to test language handling, not to train other languages.
- Slurs are deliberately sparse: hateful comments are mostly generalisations and dehumanising language,
  so the model learns slurs from the public sources, not from this corpus.
- Sections are unequal: {smallest} have the fewest articles ({few}), {largest} the most ({many}).
"""


def _words(items) -> str:
    """"a", "a and b", "a, b and c"."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _stance_disagreements(comments: pd.DataFrame, data_dir: Path) -> dict:
    second = pd.DataFrame([json.loads(line) for line in
                           (Path(data_dir) / "double_check.jsonl").read_text(encoding="utf-8").splitlines()])
    first = comments.set_index("id").loc[second["id"]]
    differ = first["stance"].to_numpy() != second["stance"].to_numpy()
    involves_neutral = (first["stance"].to_numpy() == "neutral") | (second["stance"].to_numpy() == "neutral")
    reply = first["parent_id"].notna().to_numpy()
    return {"total": int(differ.sum()), "neutral": int((differ & involves_neutral).sum()),
            "replies": int((differ & reply).sum()), "reply_share": f"{reply.mean():.0%}"}


def _depths(comments: pd.DataFrame) -> int:
    parent = dict(zip(comments["id"], comments["parent_id"]))
    deepest = 0
    for cid in parent:
        depth, node = 0, parent[cid]
        while isinstance(node, str):
            depth, node = depth + 1, parent.get(node)
        deepest = max(deepest, depth)
    return deepest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR)
    parser.add_argument("--output", type=Path, default=DATA_DIR / "README.md")
    args = parser.parse_args(argv)
    args.output.write_text(render(args.data), encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
