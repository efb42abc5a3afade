"""Each card says why its comment is waiting, from what the pipeline recorded."""

from moderation.extensions import db
from moderation.models import CommentState, Role
from moderation.services import authors, reports, words
from moderation.worker import Worker
from tests.factories import make_article, make_comment, make_user


def test_cards_say_why_each_comment_waits(app, moderator_client):
    with app.app_context():
        admin = make_user("ada", role=Role.ADMIN)
        words.add(admin, "clowns", "suspect")
        article = make_article()
        make_comment(article, "watch it [threat=0.81]", author_name="Menace")
        make_comment(article, "what a bunch of clowns", author_name="Heckler")
        make_comment(article, "sharp words [insult=0.5]", author_name="Sharp")
        held_first = make_comment(article, "earlier one", author_name="Skeptic")
        authors.hold(held_first, admin, reason="test")
        make_comment(article, "a calm remark", author_name="Skeptic")
        published = make_comment(make_article(), "published, then reported",
                                 author_name="Reported", state=CommentState.APPROVED)
        db.session.commit()
        for n in range(3):
            reports.report(published, reports.reporter_key(f"reader {n}", "k"), "threat")
        db.session.commit()
    Worker(app).run_once()

    page = moderator_client.get("/queue/").get_data(as_text=True)
    for expected in ("held: reject band, threat 0.81",
                     "queued: suspect word: clowns",
                     "queued: insult 0.50, between its thresholds",
                     "queued: author on hold",
                     "hidden: reported 3× by readers"):
        assert f'data-why="{expected}"' in page, expected
