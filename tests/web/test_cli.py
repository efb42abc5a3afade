"""The flask commands a newcomer and an operator use."""

import json
from datetime import timedelta

import pytest

from moderation.extensions import db
from moderation.models import Article, Comment, CommentState, Role, Score, User
from tests.factories import make_article, make_comment

COMMANDS = ("create-user", "seed-demo", "worker", "score", "rescore", "serve",
            "import-decisions", "evaluate", "quality", "policy", "policy show", "policy versions",
            "policy reband", "model", "model train", "model list", "model activate",
            "model rollback", "model crossval", "model export-onnx", "model prepare")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_explains_itself(runner, command):
    result = runner.invoke(args=[*command.split(), "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output and "--help" in result.output


def test_create_user_reads_the_password_from_stdin(app, runner):
    result = runner.invoke(args=["create-user", "ana", "--role", "admin", "--password-stdin"],
                           input="a long enough secret\n")
    assert result.exit_code == 0, result.output
    assert "Created admin 'ana'" in result.output
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.username == "ana")).scalar_one()
        assert user.role is Role.ADMIN and user.check_password("a long enough secret")


def test_create_user_refuses_short_passwords_and_duplicates(runner):
    short = runner.invoke(args=["create-user", "ana", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    runner.invoke(args=["create-user", "ana", "--password-stdin"], input="long enough pw\n")
    again = runner.invoke(args=["create-user", "ana", "--password-stdin"], input="long enough pw\n")
    assert again.exit_code == 1 and "already a user called 'ana'" in again.output


def test_create_user_rejects_an_unknown_role(runner):
    result = runner.invoke(args=["create-user", "ana", "--role", "owner", "--password-stdin"],
                           input="long enough pw\n")
    assert result.exit_code == 2 and "'owner' is not one of" in result.output


def test_seed_demo_prints_passwords_once_and_is_safe_to_repeat(app, runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "3 new articles" in first.output and "password:" in first.output
    password = first.output.split("'moderator' password: ")[1].split()[0]
    second = runner.invoke(args=["seed-demo"])
    assert "0 new articles, 0 new comments" in second.output
    assert "password:" not in second.output
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(Article)).scalar() == 3
        moderator = db.session.execute(
            db.select(User).where(User.username == "moderator")).scalar_one()
        assert moderator.check_password(password)


def test_seed_demo_takes_passwords_from_the_environment(app, runner, monkeypatch):
    monkeypatch.setenv("MODERATION_ADMIN_PASSWORD", "admin password from env")
    result = runner.invoke(args=["seed-demo"])
    assert "'admin' created with the password from MODERATION_ADMIN_PASSWORD" in result.output
    with app.app_context():
        admin = db.session.execute(db.select(User).where(User.username == "admin")).scalar_one()
        assert admin.check_password("admin password from env")
    assert "admin password from env" not in result.output


def test_seed_demo_refuses_a_weak_password_from_the_environment(app, runner, monkeypatch):
    monkeypatch.setenv("MODERATION_ADMIN_PASSWORD", "password1234")
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 1
    assert "Error: MODERATION_ADMIN_PASSWORD: That password is too easy to guess" in \
        result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(User)).scalar() == 0


def test_worker_once_bands_the_waiting_comments(app, runner):
    with app.app_context():
        article = make_article()
        make_comment(article, "fine")
        make_comment(article, "awful [toxicity=0.99]")
        db.session.commit()
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "banded 2 comments" in result.output
    with app.app_context():
        states = sorted(s.value for s in db.session.execute(db.select(Comment.state)).scalars())
    assert states == ["approved", "held"]


def test_score_prints_one_json_object_per_text(runner):
    result = runner.invoke(args=["score", "hello there", "nasty [toxicity=0.95]"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [line["band"] for line in lines] == ["approve", "reject"]
    assert lines[1]["risk"] == 0.95 and lines[1]["scorer"] == "fake"
    assert lines[0]["labels"] == {"toxicity": 0.01}


def test_score_reads_a_file_or_stdin(runner, tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("one\n\ntwo [insult=0.5]\n", encoding="utf-8")
    from_file = runner.invoke(args=["score", "--file", str(path)])
    from_stdin = runner.invoke(args=["score", "--file", "-"], input="three\n")
    assert [json.loads(x)["text"] for x in from_file.stdout.splitlines()] == [
        "one", "two [insult=0.5]"]
    assert json.loads(from_stdin.stdout.splitlines()[0])["text"] == "three"


def test_score_without_texts_is_a_usage_error(runner):
    result = runner.invoke(args=["score"])
    assert result.exit_code == 2 and "Give texts as arguments or --file PATH" in result.output


def test_rescore_scores_a_filter_with_a_progress_bar(app, runner, scorer):
    with app.app_context():
        one = make_article(slug="one")
        two = make_article(slug="two")
        waiting = make_comment(one, "now nasty [toxicity=0.97]", state=CommentState.QUEUED)
        decided = make_comment(one, "decided [toxicity=0.97]", state=CommentState.APPROVED)
        other = make_comment(two, "elsewhere")
        db.session.commit()
        ids = waiting.id, decided.id, other.id
    result = runner.invoke(args=["rescore", "--article", "one", "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    assert "Rescoring" in result.output and "Rescored 2 comments; 1 moved" in result.output
    with app.app_context():
        assert db.session.get(Comment, ids[0]).state is CommentState.HELD
        assert db.session.get(Comment, ids[1]).state is CommentState.APPROVED  # kept
        assert db.session.get(Comment, ids[1]).risk == 0.97
        assert db.session.get(Comment, ids[2]).scored_at is None  # not in the filter
        assert db.session.execute(db.select(db.func.count()).select_from(Score)).scalar() == 2


def test_rescore_refuses_a_batch_too_big_for_one_statement(runner):
    # A batch's banding binds five values a comment in one statement (SQLite allows 32,766).
    result = runner.invoke(args=["rescore", "--batch-size", "20000"])
    assert result.exit_code == 2
    assert "20000 is not in the range 1<=x<=5000" in result.output


def test_rescore_with_nothing_matching_says_so(runner):
    result = runner.invoke(args=["rescore", "--state", "held"])
    assert result.exit_code == 0 and "No comments match." in result.output


def test_score_works_before_the_database_exists(tmp_path):
    from moderation import create_app
    from tests.conftest import base_config

    fresh = create_app(base_config(f"sqlite:///{tmp_path / 'nothing-here.sqlite3'}"))
    result = fresh.test_cli_runner().invoke(args=["score", "rude [insult=0.95]"])
    assert result.exit_code == 0, result.output
    line = json.loads(result.stdout.splitlines()[-1])
    assert line["band"] == "reject" and line["policy_version"] is None
    assert "no database yet" in result.stderr


def test_score_streams_long_files_in_batches(runner, scorer, tmp_path):
    path = tmp_path / "many.txt"
    path.write_text("".join(f"text {n}\n" for n in range(150)), encoding="utf-8")
    result = runner.invoke(args=["score", "--file", str(path)])
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 150
    assert [len(call) for call in scorer.calls] == [64, 64, 22]


def test_score_applies_the_word_lists_as_the_worker_does(app, runner):
    from moderation.services import words
    from tests.factories import make_user

    with app.app_context():
        words.add(make_user("ada", role=Role.ADMIN), "idiot", "banned")
        db.session.commit()

    result = runner.invoke(args=["score", "the i.d.i.o.t council", "a calm remark"])

    assert result.exit_code == 0, result.output
    evasive, calm = (json.loads(line) for line in result.stdout.splitlines())
    assert evasive["band"] == "reject" and evasive["words"] == "banned word: idiot"
    assert calm["band"] == "approve" and calm["words"] is None


def test_model_train_refuses_clearly_without_enough_decisions(runner):
    result = runner.invoke(args=["model", "train"])
    assert result.exit_code == 1
    assert "needs at least 50 decided comments scored by fake; there are 0" in result.output


def test_model_list_and_rollback_say_when_there_is_nothing(runner):
    assert "No site models yet" in runner.invoke(args=["model", "list"]).output
    result = runner.invoke(args=["model", "rollback"])
    assert result.exit_code == 1 and "nothing to roll back" in result.output


def test_seeded_demo_comments_are_spread_over_time_like_a_real_thread(app, runner):
    from moderation.models import utcnow

    runner.invoke(args=["seed-demo"])
    with app.app_context():
        rows = db.session.execute(
            db.select(Comment.created_at, Article.published_at)
            .join(Article, Comment.article_id == Article.id)).all()
        now = utcnow()
    times = [created for created, _ in rows]
    assert len(set(times)) == len(times)  # not all "just now"
    assert all(published <= created <= now for created, published in rows)
    assert sum(now - created > timedelta(hours=1) for created in times) >= len(times) - 1
