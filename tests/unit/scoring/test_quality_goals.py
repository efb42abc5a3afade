"""The offline composite's goals, measured on held-out sets under the default policy: ordinary
comments publish, harm stays out, OLID's held-out tweets rank, identity groups are treated
alike. Each test fails when a change regresses it below the floor written here.

The sets in tests/data/ were written apart from the training corpus and the examples (other
writers, never read by `make heads`); OLID's test fifth is never fitted on. See docs/scoring.md
for the full tables."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from moderation.scoring import quality
from moderation.scoring.examples import shipped_examples
from moderation.scoring.fairness import fill
from moderation.scoring.train_heads import OLID, read_corpus
from moderation.services.policy import DEFAULT_THRESHOLDS

DATA = Path(__file__).resolve().parents[2] / "data"
BANDS = quality.Bands({label: rule for label, rule in DEFAULT_THRESHOLDS.items()
                       if label != "site_reject"})


def _key(text: str) -> str:
    return text.casefold().strip().rstrip(".")


def _evaluation_sentences() -> set[str]:
    found = set()
    for name in ("benign_news_comments.tsv", "harm_devset.tsv", "harm_devset2.tsv"):
        with (DATA / name).open(encoding="utf-8", newline="") as handle:
            found |= {_key(row["text"]) for row in csv.DictReader(
                handle, delimiter="\t", quoting=csv.QUOTE_NONE)}
    with (DATA / "identity_templates.tsv").open(encoding="utf-8", newline="") as handle:
        templates = [(row["template"], row["label"] == "hateful")
                     for row in csv.DictReader(handle, delimiter="\t")]
    terms = (DATA / "identity_terms.txt").read_text(encoding="utf-8").split("\n")
    found |= {_key(s.text) for s in fill(templates, [t for t in terms if t.strip()])}
    return found


def test_no_evaluation_sentence_is_in_the_training_text():
    training = {_key(text) for _, text in read_corpus()}
    training |= {_key(example.text) for example in shipped_examples()}
    assert not sorted(_evaluation_sentences() & training)


@pytest.fixture(scope="module")
def score(composite):
    memo: dict = {}

    def scored(texts):
        missing = [text for text in dict.fromkeys(texts) if text not in memo]
        memo.update(zip(missing, composite.score(missing), strict=True))
        return [memo[text] for text in texts]

    return scored


def test_ordinary_news_comments_publish_at_once(score):
    report = quality.benign(score, BANDS, DATA / "benign_news_comments.tsv").figures
    assert report["not_approved"] <= 0.10, report["examples_not_approved"]
    # Length alone does not hold a comment back.
    assert report["long_not_approved"] <= 0.10


@pytest.mark.parametrize("name", ["harm_devset.tsv", "harm_devset2.tsv"])
def test_harm_without_swearing_stays_out_of_the_approve_band(score, name):
    report = quality.devset(score, BANDS, DATA / name).figures
    assert report["harm_kept_out"] >= 0.90, report["harm_published"]
    assert report["risk_auc"] >= 0.93


def test_identity_groups_are_treated_alike(score):
    summary, terms = quality.identity(score, BANDS, DATA)
    figures = summary.figures
    assert figures["terms"] >= 12
    assert figures["benign_not_approved"] <= BENIGN_IDENTITY_FLOOR, figures
    assert figures["hateful_kept_out"] >= 0.90
    for row in terms:
        assert row.subgroup_auc >= 0.85, row
        assert row.bpsn_auc >= BPSN_FLOOR, row
        assert row.bnsp_auc >= 0.80, row


@pytest.mark.skipif(not OLID.is_file(), reason=f"{OLID} is absent (../shared is not here)")
def test_risk_ranks_olids_held_out_tweets(score):
    report = quality.olid_test(score, BANDS).figures
    assert report["risk_auc"] >= OLID_FLOOR, report
    assert report["not_offensive_not_approved"] <= 0.10, report


def test_the_demos_harmless_comments_publish_and_its_abuse_waits(score):
    from moderation.services.demo import COMMENTS

    abusive = {"bridgewatcher", "anon123", "trainhater", "xx"}
    heated = {"Quay St resident"}  # "the council are fools": either way is defensible
    texts = [body for _, author, body in COMMENTS]
    for (_, author, body), scored in zip(COMMENTS, score(texts), strict=True):
        if author in heated:
            continue
        assert BANDS.approved(scored.labels) is (author not in abusive), (body, scored.labels)


BENIGN_IDENTITY_FLOOR = 0.10
BPSN_FLOOR = 0.90
# The goal is 0.86; the shipped heads measure 0.833 (docs/scoring.md). This floor catches a
# regression; raise it when a better encoder lands.
OLID_FLOOR = 0.82
