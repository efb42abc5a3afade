"""int8 on ONNX Runtime decides as torch does, on a model whose outputs have margins.

Random weights are a poor judge of quantization: their scores differ from text to text by
accident, about as much as int8 noise moves them (up to ~0.3 on the wide random tiny model).
A trained model separates texts by wide margins, and that is what int8 must preserve. So the
model here is the tiny architecture trained for a few seconds on a toy rule (marked words
raise marked labels, see tests/tiny_detoxify.py): real margins, still no claim about real
toxicity. Measure agreement on the real checkpoint before trusting int8 with it."""

from __future__ import annotations

import pytest

from moderation.models import Band, Policy
from moderation.scoring import DetoxifyOnnxScorer, DetoxifyScorer
from moderation.services.policy import band, default_thresholds
from tests.tiny_detoxify import build_tiny_checkpoint

# int8 moved bert-base's outputs by up to ~0.01 (RECIPES.md) and this model's by ~0.005; a
# wrong column, window or sigmoid moves them by tenths. Twice the bert-base figure leaves room
# for other CPUs' int8 kernels without hiding a real mistake.
TOLERANCE = 0.02

_CLEAN = [
    "Thanks for the thoughtful article, I learned a lot.",
    "The council meeting is on Tuesday at 7pm.",
    "Please read the page before you comment.",
    "Nice park, I love the city in the spring.",
    "Nobody should vote before they read the story.",
    "Great news for the school road.",
    "I disagree with the point about the town, but it is a good post.",
    "Where is the meeting? Thank you.",
    "ok",
    "",
    "Welcome to the site, new readers.",
    "The model scores each comment here.",
    "What time does the park close?",
    "I think the council should look at the new road again.",
    "Sorry, I made a mistake in my last comment.",
]
_MILD = [
    "Shut up, that is a dumb point.",
    "What the hell is this story?",
    "damn",
    "That was a dumb thing to say at the meeting.",
    "Oh hell, the road is closed again.",
    "Damn, I missed the council meeting.",
]
_HARSH = [
    "You are a worthless idiot.",
    "you fool",
    "What a stupid moron.",
    "Only an idiot would write this article.",
    "I will kill you",
    "People like you should die.",
    "I hate the people in this town.",
    "Everyone hates you, fool.",
    "fucking great news",
    "This is shit.",
    "Shut the fuck up.",
    "He hates the readers of this site.",
]
_FILLER = "the council said it would review the plan and people should read the story"
_LONG = [
    " ".join([_FILLER] * 20),
    " ".join([_FILLER] * 12) + " you are a stupid moron " + " ".join(["thanks for the post"] * 10),
    " ".join(["a long comment about the new school road"] * 20) + " what the hell",
    "I will kill you. " + " ".join([_FILLER] * 15),
    " ".join(["thanks for the article"] * 30),
]
CORPUS = _CLEAN + _MILD + _HARSH + _LONG


@pytest.fixture(scope="module")
def trained_checkpoint(tmp_path_factory):
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-trained"), train_steps=400)


@pytest.fixture(scope="module")
def both_runtimes(trained_checkpoint):
    checkpoint, hf_dir = trained_checkpoint
    torch_scorer = DetoxifyScorer(checkpoint=checkpoint, huggingface_config_path=hf_dir)
    onnx_scorer = DetoxifyOnnxScorer(checkpoint=checkpoint, huggingface_config_path=hf_dir)
    return torch_scorer.score(CORPUS), onnx_scorer.score(CORPUS)


def test_int8_puts_every_text_in_the_band_torch_puts_it_in(both_runtimes):
    policy = Policy(thresholds=default_thresholds())
    by_torch, by_int8 = both_runtimes

    torch_bands = [band(scored.labels, policy) for scored in by_torch]
    int8_bands = [band(scored.labels, policy) for scored in by_int8]

    differing = [(text[:60], want, got, by_torch[i].labels, by_int8[i].labels)
                 for i, (text, want, got) in enumerate(zip(CORPUS, torch_bands, int8_bands,
                                                           strict=True)) if want != got]
    assert differing == []
    # Not vacuous: the corpus spans all three bands.
    assert set(torch_bands) == {Band.APPROVE, Band.QUEUE, Band.REJECT}


def test_int8_scores_stay_within_the_tolerance_of_torch_label_by_label(both_runtimes):
    by_torch, by_int8 = both_runtimes
    worst: dict[str, float] = {}

    for one, other in zip(by_torch, by_int8, strict=True):
        assert other.labels.keys() == one.labels.keys()
        for label, value in one.labels.items():
            worst[label] = max(worst.get(label, 0.0), abs(other.labels[label] - value))

    assert set(worst) == {"toxicity", "severe_toxicity", "obscene", "threat", "insult",
                          "identity_attack"}
    assert max(worst.values()) <= TOLERANCE, worst


def test_long_texts_are_windowed_alike_and_agree_on_their_riskiest_window(both_runtimes):
    by_torch, by_int8 = both_runtimes
    long_pairs = [(one, other) for one, other in zip(by_torch, by_int8, strict=True)
                  if one.windows > 1]

    assert len(long_pairs) >= len(_LONG)
    for one, other in long_pairs:
        assert other.windows == one.windows
        assert other.risk == pytest.approx(one.risk, abs=TOLERANCE)
