"""Length-sorted batching and overlapping windows give the numbers one-at-a-time scoring gives."""

from __future__ import annotations

from itertools import pairwise
from types import SimpleNamespace

import pytest

from moderation.scoring import DetoxifyScorer
from moderation.scoring.detoxify_scorer import model_max_length

SENTENCES = (
    "You are a worthless idiot and everyone hates you.",
    "Thanks for the thoughtful article, I learned a lot!",
    "The council meeting is on Tuesday at 7pm, please read the news page.",
    "Nobody should vote for that fool; shut up and go back to your xyzzy.",
)
# About 300 tokens: several 64-token windows of the tiny model.
LONG_TEXT = " ".join(SENTENCES[i % len(SENTENCES)] for i in range(16))
MIXED = ["ok", LONG_TEXT, "Thanks, xyzzy!", SENTENCES[0] * 2, "", SENTENCES[2], "   "]


def _scorer(checkpoint_pair, **options) -> DetoxifyScorer:
    checkpoint, hf_dir = checkpoint_pair
    scorer = DetoxifyScorer(
        checkpoint=checkpoint, huggingface_config_path=hf_dir, window_overlap=16, **options
    )
    scorer.load()
    return scorer


@pytest.fixture(scope="module")
def scorer(tiny_checkpoint) -> DetoxifyScorer:
    return _scorer(tiny_checkpoint)


@pytest.fixture(scope="module")
def slow_scorer(tiny_slow_checkpoint) -> DetoxifyScorer:
    return _scorer(tiny_slow_checkpoint)


def _assert_same_scores(left, right, tolerance=1e-5):
    assert len(left) == len(right)
    for one, other in zip(left, right, strict=True):
        assert one.labels.keys() == other.labels.keys()
        for label in one.labels:
            assert one.labels[label] == pytest.approx(other.labels[label], abs=tolerance)


def test_results_come_back_in_input_order_after_length_sorted_batching(scorer):
    together = scorer.score(MIXED)
    alone = [scorer.score([text])[0] for text in MIXED]

    _assert_same_scores(together, alone)
    assert [s.windows for s in together] == [s.windows for s in alone]
    # Not vacuous: the texts really score differently.
    assert len({round(s.risk, 6) for s in together}) > 3


def test_batch_size_does_not_change_the_numbers(tiny_checkpoint, scorer):
    one_at_a_time = _scorer(tiny_checkpoint, batch_size=1)

    _assert_same_scores(one_at_a_time.score(MIXED), scorer.score(MIXED))


def test_an_empty_list_gives_an_empty_list(scorer):
    assert scorer.score([]) == []


def test_empty_and_blank_texts_still_get_one_window_of_scores(scorer):
    for scored in scorer.score(["", "   \n "]):
        assert scored.windows == 1
        assert scored.top_window is None
        assert len(scored.labels) == 6


def test_a_short_text_is_one_window_with_no_span(scorer):
    [scored] = scorer.score([SENTENCES[1]])

    assert scored.windows == 1
    assert scored.top_window is None
    assert scorer.window_spans(SENTENCES[1]) == [(0, len(SENTENCES[1]))]


def test_a_long_text_is_scored_as_the_max_over_its_windows(scorer):
    spans = scorer.window_spans(LONG_TEXT)
    [scored] = scorer.score([LONG_TEXT])
    window_scores = scorer.score([LONG_TEXT[start:end] for start, end in spans])

    assert scored.windows == len(spans) >= 4
    assert all(window.windows == 1 for window in window_scores)  # each fits the model alone
    for label, value in scored.labels.items():
        assert value == pytest.approx(max(w.labels[label] for w in window_scores), abs=1e-5)
    # Not vacuous: windows disagree, so the max is a real choice.
    assert max(w.risk for w in window_scores) - min(w.risk for w in window_scores) > 1e-3


def test_the_top_window_is_a_span_of_the_text_that_scores_highest(scorer):
    spans = scorer.window_spans(LONG_TEXT)
    [scored] = scorer.score([LONG_TEXT])

    start, end = scored.top_window
    assert 0 <= start < end <= len(LONG_TEXT)
    [top] = scorer.score([LONG_TEXT[start:end]])
    others = scorer.score([LONG_TEXT[a:b] for a, b in spans])
    assert top.risk == pytest.approx(max(other.risk for other in others), abs=1e-5)
    assert scored.risk == pytest.approx(top.risk, abs=1e-5)


def test_windows_fit_the_model_overlap_and_cover_the_text(scorer):
    spans = scorer.window_spans(LONG_TEXT)
    tokenizer = scorer._loaded.tokenizer

    assert spans[0][0] == 0 and spans[-1][1] == len(LONG_TEXT)
    for (_, previous_end), (start, _) in pairwise(spans):
        assert start < previous_end  # consecutive windows share text
    for start, end in spans:
        assert len(tokenizer(LONG_TEXT[start:end])["input_ids"]) <= 64
        # Cut between words, never inside one.
        assert not (start > 0 and LONG_TEXT[start - 1 : start + 1].isalnum())
        assert not (end < len(LONG_TEXT) and LONG_TEXT[end - 1 : end + 1].isalnum())


def test_the_slow_tokenizer_windows_by_words_like_the_fast_one(scorer, slow_scorer):
    assert not slow_scorer._loaded.tokenizer.is_fast
    assert scorer._loaded.tokenizer.is_fast

    assert slow_scorer.window_spans(LONG_TEXT) == scorer.window_spans(LONG_TEXT)
    # Same seed, same vocabulary: the two checkpoints hold the same model.
    _assert_same_scores(slow_scorer.score(MIXED), scorer.score(MIXED))


def test_the_slow_path_scores_each_window_separately_too(slow_scorer):
    spans = slow_scorer.window_spans(LONG_TEXT)
    [scored] = slow_scorer.score([LONG_TEXT])
    windows = slow_scorer.score([LONG_TEXT[start:end] for start, end in spans])

    assert scored.windows == len(spans) > 1
    assert scored.risk == pytest.approx(max(w.risk for w in windows), abs=1e-5)


@pytest.mark.parametrize("which", ["scorer", "slow_scorer"])
def test_a_word_longer_than_a_window_is_cut_rather_than_lost(which, request):
    chosen = request.getfixturevalue(which)
    text = "hello " + "ab" * 45 + " bye"  # 90 word pieces in one "word"

    spans = chosen.window_spans(text)
    [scored] = chosen.score([text])

    assert scored.windows == len(spans) >= 2
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    tokenizer = chosen._loaded.tokenizer
    assert all(len(tokenizer(text[a:b])["input_ids"]) <= 64 for a, b in spans)


def test_max_length_override_makes_smaller_windows(tiny_checkpoint, scorer):
    narrow = _scorer(tiny_checkpoint, max_length=24)

    assert narrow.score([LONG_TEXT])[0].windows > scorer.score([LONG_TEXT])[0].windows


@pytest.mark.parametrize(
    ("tokenizer_limit", "model_type", "positions", "override", "expected"),
    [
        (512, "bert", 512, None, 512),
        (512, "roberta", 514, None, 512),
        (int(1e30), "roberta", 514, None, 512),  # "no limit" sentinel of old tokenizers
        (int(1e30), "albert", 512, None, 512),
        (64, "bert", 64, 24, 24),
        (64, "bert", 64, 1000, 64),  # never past the position embeddings
    ],
)
def test_the_window_length_follows_tokenizer_and_position_limits(
    tokenizer_limit, model_type, positions, override, expected
):
    tokenizer = SimpleNamespace(model_max_length=tokenizer_limit)
    config = SimpleNamespace(model_type=model_type, max_position_embeddings=positions)

    assert model_max_length(tokenizer, config, override) == expected
