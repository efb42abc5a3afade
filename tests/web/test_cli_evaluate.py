"""`flask evaluate`: how well the scorer and the active policy separate a labelled file.
The database does not matter here, so these run on SQLite only."""

import json

import pytest

from tests.conftest import OLID

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# Fake scores from the markers, under the default policy (toxicity: approve < 0.30,
# reject >= 0.90). Positives (OFF) score 0.95, 0.5, 0.2; negatives 0.01, 0.92, 0.01.
LABELLED = (
    "text,label\n"
    "calm words,NOT\n"                  # approve
    "rude [toxicity=0.95],OFF\n"        # reject: true positive
    "edgy [toxicity=0.5],off\n"         # queue: missed
    '"harsh, but fair [toxicity=0.92]",NOT\n'  # reject: false positive
    "mild [toxicity=0.2],OFF\n"         # approve: a positive published unseen
    "fine,NOT\n"                        # approve
    ",OFF\n"                            # no text: skipped
)
# 7 of 9 (positive, negative) pairs in order. Average precision: each positive adds 1/3
# recall, at precision 1, 2/3 and 3/4.
AUC, AP = 7 / 9, (1 + 2 / 3 + 3 / 4) / 3


@pytest.fixture
def labelled(tmp_path):
    path = tmp_path / "labelled.csv"
    path.write_text(LABELLED, encoding="utf-8")
    return path


def evaluate(runner, path, *extra):
    return runner.invoke(args=["evaluate", str(path), "--text-column", "text",
                               "--label-column", "label", "--positive", "OFF", *extra])


def test_it_prints_ranking_and_the_reject_band_as_a_classifier(runner, labelled):
    result = evaluate(runner, labelled)

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "6 rows, 3 positive ('OFF'), 1 skipped" in out
    assert f"toxicity{AUC:>23.3f}{AP:>15.3f}" in out
    assert "insult" in out and "the scorer does not produce this label" in out
    assert "reject band              1         1" in out
    assert "other bands              2         2" in out
    assert "Precision 0.500   Recall 0.333   F1 0.400" in out
    assert "Left for moderators (queue band): 1 of 6 (16.7%)" in out
    assert "Positives auto-approved: 1 of 3 (33.3%)" in out
    assert "Scoring" in result.stderr and "Scoring" not in out


def test_json_is_one_clean_object_on_stdout(runner, labelled):
    result = evaluate(runner, labelled, "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["rows"], report["positives"], report["skipped"]) == (6, 3, 1)
    assert report["labels"]["toxicity"]["roc_auc"] == pytest.approx(AUC)
    assert report["labels"]["toxicity"]["average_precision"] == pytest.approx(AP)
    assert report["labels"]["threat"] == {"roc_auc": None, "average_precision": None,
                                          "reason": "the scorer does not produce this label"}
    policy = report["policy"]
    assert (policy["true_positives"], policy["false_positives"],
            policy["false_negatives"], policy["true_negatives"]) == (1, 1, 2, 2)
    assert policy["f1"] == pytest.approx(0.4)
    assert policy["queue_share"] == pytest.approx(1 / 6)
    assert policy["approved_positives"] == 1
    assert report["scorer"] == {"name": "fake", "version": "1"}


def test_limit_and_tab_separated_files(runner, tmp_path):
    path = tmp_path / "labelled.txt"
    path.write_text(LABELLED.replace(",", "\t").replace('"harsh\t but fair', '"harsh, fair'),
                    encoding="utf-8")

    result = evaluate(runner, path, "--delimiter", "TAB", "--limit", "3", "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["rows"], report["positives"]) == (3, 2)


def test_a_positive_value_nobody_uses_gives_n_a_and_the_values_seen(runner, labelled):
    result = runner.invoke(args=["evaluate", str(labelled), "--text-column", "text",
                                 "--label-column", "label", "--positive", "SPAM"])

    assert result.exit_code == 0, result.output
    assert "No row is labelled 'SPAM'; values seen: NOT, OFF, off" in result.stdout
    assert "only one class: none of the 6 rows is positive" in result.stdout
    assert "Recall n/a (no positives)" in result.stdout


def test_a_missing_column_lists_the_columns_found(runner, labelled):
    result = runner.invoke(args=["evaluate", str(labelled), "--text-column", "body",
                                 "--label-column", "label", "--positive", "OFF"])

    assert result.exit_code == 1
    assert "No column 'body'" in result.output and "'text', 'label'" in result.output


@pytest.mark.parametrize("content, message", [
    ("", "is empty"),
    ("text,label\n", "has no rows with both a 'text' and a 'label'"),
])
def test_empty_files_are_clear_errors(runner, tmp_path, content, message):
    path = tmp_path / "empty.csv"
    path.write_text(content, encoding="utf-8")

    result = evaluate(runner, path)

    assert result.exit_code == 1 and message in result.output


def test_a_missing_file_and_an_unknown_delimiter_are_usage_errors(runner, labelled, tmp_path):
    missing = evaluate(runner, tmp_path / "nowhere.csv")
    odd = evaluate(runner, labelled, "--delimiter", ";")

    assert missing.exit_code == 2 and "does not exist" in missing.output
    assert odd.exit_code == 2 and "use TAB or ','" in odd.output


@pytest.mark.parametrize("app_config", [{"MODERATION_SCORER": "embedded",
                                         "MODERATION_SCORER_OBJECT": None}])
def test_the_embedded_model_separates_offensive_tweets_in_olid(runner):
    """The real model, not the fake: the first 500 OLID tweets, offensive (OFF) or not."""
    if not OLID.is_file():
        pytest.skip(f"OLID training data not found at {OLID} (../shared is absent)")

    result = runner.invoke(args=["evaluate", str(OLID), "--text-column", "tweet",
                                 "--label-column", "subtask_a", "--positive", "OFF",
                                 "--limit", "500", "--json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["scorer"]["name"] == "alt-profanity-check"
    assert report["rows"] == 500 and 0 < report["positives"] < 500
    assert report["labels"]["toxicity"]["roc_auc"] > 0.7


def test_evaluate_explains_itself(runner):
    result = runner.invoke(args=["evaluate", "--help"])
    assert result.exit_code == 0 and "--positive" in result.output and "--json" in result.output
