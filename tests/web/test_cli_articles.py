"""An operator adds and changes articles from the shell with `flask article`: only the options
given change, a repeat changes nothing, and a refusal is one sentence with exit status 2."""

import pytest

from moderation.extensions import db
from moderation.models import AdminEvent, Article
from moderation.services import sites
from tests.factories import make_article

KEY = "2024/05/flood-barrier"


def article(app, key=KEY) -> Article | None:
    with app.app_context():
        row = db.session.execute(
            db.select(Article).where(Article.external_key == key)).scalar_one_or_none()
        db.session.expunge_all()
        return row


@pytest.fixture
def bugle(app) -> int:
    with app.app_context():
        site = sites.save(None, None, name="Daily Bugle", origins=[], allow_anonymous=True,
                          auto_register=False)
        db.session.commit()
        return site.id


@pytest.mark.parametrize("command", ["article", "article upsert", "article list"])
def test_every_article_command_explains_itself(runner, command):
    result = runner.invoke(args=[*command.split(), "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_upsert_creates_then_changes_only_the_options_given(app, runner, bugle):
    created = runner.invoke(args=[
        "article", "upsert", KEY, "--headline", "Council approves a flood barrier",
        "--url", "https://bugle.example/2024/05/flood-barrier", "--section", "Local",
        "--byline", "By Jo Smith", "--published-at", "2024-05-01T09:00:00Z",
        "--site", "Daily Bugle", "--premoderate"])
    assert created.exit_code == 0, created.output
    assert created.output == f"Created: {KEY} “Council approves a flood barrier”.\n"
    first = article(app)
    assert (first.section, first.site_id, first.premoderate, first.comments_open) == (
        "Local", bugle, True, True)

    same = runner.invoke(args=["article", "upsert", KEY, "--section", "Local"])
    assert same.exit_code == 0 and same.output.startswith("Unchanged: ")

    closed = runner.invoke(args=["article", "upsert", KEY, "--closed", "--no-premoderate"])
    assert closed.exit_code == 0 and closed.output.startswith("Updated: ")
    after = article(app)
    assert not after.comments_open and not after.premoderate
    assert (after.section, after.byline, after.site_id) == ("Local", "By Jo Smith", bugle)
    with app.app_context():
        actions = db.session.execute(db.select(AdminEvent.action).where(
            AdminEvent.action.startswith("article.")).order_by(AdminEvent.id)).scalars().all()
    assert actions == ["article.create", "article.update"]


@pytest.mark.parametrize("args, message", [
    (["bad key!", "--headline", "x"], "An article key is 1 to 200 letters"),
    ([KEY], "A new article needs a headline."),
    ([KEY, "--headline", "x", "--url", "ftp://bugle.example"], "full http(s) URL"),
    ([KEY, "--headline", "x", "--published-at", "soon"], "The published date"),
    ([KEY, "--headline", "x", "--site", "Planet"], "There is no site called 'Planet'."),
])
def test_a_refusal_is_one_sentence_and_exit_status_2(app, runner, args, message):
    result = runner.invoke(args=["article", "upsert", *args])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    with app.app_context():
        assert db.session.execute(db.select(Article)).first() is None


def test_list_shows_newest_first_and_filters_by_site(app, runner, bugle):
    with app.app_context():
        make_article(slug="older", headline="Older story", external_key="k-old",
                     site_id=bugle, comments_open=False)
        newer = make_article(slug="newer", headline="Newer story")
        newer.published_at = newer.published_at.replace(year=newer.published_at.year + 1)
        db.session.commit()
    listed = runner.invoke(args=["article", "list"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert len(lines) == 2
    assert "(no key: newer)" in lines[0] and "Newer story" in lines[0]
    assert "closed" in lines[1] and "k-old" in lines[1]

    on_site = runner.invoke(args=["article", "list", "--site", "Daily Bugle"])
    assert [line.split()[-2:] for line in on_site.output.splitlines()] == [["Older", "story"]]
    unknown = runner.invoke(args=["article", "list", "--site", "Planet"])
    assert unknown.exit_code == 2 and "There is no site called 'Planet'." in unknown.output
