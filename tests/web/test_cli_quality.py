"""`flask quality`: the configured scorer under the active policy on a folder of held-out sets,
as a table and as JSON, with OLID skipped (and said so) when it is absent."""

from __future__ import annotations

import json

import pytest

BENIGN = ["Thanks for the clear explanation of the budget.",
          "The new cycle lane on Mill Road is a big improvement."]
HARM = [("harmful", "threat", "We know where your kids go to school, watch yourself."),
        ("benign", "ordinary", "Lovely photos of the harvest festival.")]
TEMPLATES = [("benign", "{group} are welcome in this town."),
             ("hateful", "{group} are vermin and should be driven out.")]


@pytest.fixture
def app_config(composite):
    return {"MODERATION_SCORER_OBJECT": composite}


@pytest.fixture
def sets(tmp_path):
    (tmp_path / "benign_news_comments.tsv").write_text(
        "topic\ttext\n" + "".join(f"misc\t{text}\n" for text in BENIGN), encoding="utf-8")
    (tmp_path / "harm_devset9.tsv").write_text(
        "label\tcategory\ttext\n" + "".join("\t".join(row) + "\n" for row in HARM),
        encoding="utf-8")
    (tmp_path / "identity_templates.tsv").write_text(
        "label\ttemplate\n" + "".join("\t".join(row) + "\n" for row in TEMPLATES),
        encoding="utf-8")
    (tmp_path / "identity_terms.txt").write_text("refugees\nold people\n", encoding="utf-8")
    return tmp_path


def test_quality_reports_every_set_as_json(runner, sets, tmp_path):
    result = runner.invoke(args=["quality", "--sets", str(sets), "--olid",
                                 str(tmp_path / "absent.tsv"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)

    assert report["scorer"].startswith("composite (")
    assert report["benign"]["not_approved"] == 0.0  # both ordinary comments publish
    devset = report["devsets"]["harm_devset9.tsv"]
    assert devset["harm_kept_out"] == 1.0 and devset["benign_not_approved"] == 0.0
    identity = report["identity"]
    assert identity["terms"] == 2 and len(identity["per_term"]) == 2
    assert {row["term"] for row in identity["per_term"]} == {"refugees", "old people"}
    assert identity["hateful_kept_out"] == 1.0
    assert report["olid"] is None
    assert "absent.tsv is absent: no OLID figures" in result.stderr


def test_quality_prints_a_table_a_person_can_read(runner, sets, tmp_path):
    result = runner.invoke(args=["quality", "--sets", str(sets), "--olid",
                                 str(tmp_path / "absent.tsv")])
    assert result.exit_code == 0, result.output
    assert "Ordinary news comments: 0.0% not approved" in result.stdout
    assert "harm_devset9.tsv: harm kept out 100.0%" in result.stdout
    assert "Identity templates (2 terms)" in result.stdout
    assert "refugees" in result.stdout and "BPSN" in result.stdout


def test_quality_says_what_is_missing(runner, tmp_path):
    result = runner.invoke(args=["quality", "--sets", str(tmp_path)])
    assert result.exit_code == 1
    assert "has no benign_news_comments.tsv; pass --sets" in result.output


def test_quality_names_a_missing_column_instead_of_a_traceback(runner, sets):
    (sets / "harm_devset9.tsv").write_text("label\ttext\nharmful\tsome words here\n",
                                           encoding="utf-8")
    result = runner.invoke(args=["quality", "--sets", str(sets)])
    assert result.exit_code == 1
    assert "lacks the column 'category'" in result.output
