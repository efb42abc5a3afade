"""Moderators look back: every decision, who made it and why, filtered, paged, exported, and
one comment's whole story."""

import csv
import io
import re
from datetime import datetime, timedelta

import pytest

from moderation.extensions import db
from moderation.models import Article, Comment, CommentState, Decision, Role, User, utcnow
from moderation.services import audit
from moderation.services.decide import decide, undo
from moderation.worker import Worker
from tests.conftest import login
from tests.factories import PASSWORD, make_article, make_comment, make_user
from tests.querycount import statements_during_get


def row_ids(html: str) -> list[int]:
    return [int(number) for number in re.findall(r'<tr id="decision-(\d+)"', html)]


def only(comment_id: int, **where) -> int:
    [decision_id] = db.session.execute(
        db.select(Decision.id).filter_by(comment_id=comment_id, **where)).scalars()
    return decision_id


@pytest.fixture
def log(app, moderator):
    """Five comments banded by the worker (policy v1, and the system for one the scorer
    choked on), then moderators at work: maria rejects two, omar approves one, maria undoes
    one of her rejections. Omar's approval and one policy approval happened in March 2024."""
    with app.app_context():
        harbour = make_article(slug="harbour-plan", headline="Harbour plan approved")
        bridge = make_article(slug="bridge-vote", headline="Bridge vote delayed")
        make_user("omar")
        comments = {
            "abusive": make_comment(harbour, "You are all idiots [toxicity=0.95]"),
            "middling": make_comment(harbour, "Meh, a so-so plan [toxicity=0.5]"),
            "kind": make_comment(harbour, "Lovely <script>alert('x')</script> harbour",
                                 author_name="Kim <b>bold</b>"),
            "scam": make_comment(bridge, "The bridge is a scam [toxicity=0.6]"),
            "choked": make_comment(bridge, "Scorer chokes on this [fail]"),
        }
        ids = {name: comment.id for name, comment in comments.items()}
        db.session.commit()
    assert Worker(app).run_once() == 5
    with app.app_context():
        maria, omar = (db.session.execute(db.select(User).filter_by(username=name))
                       .scalar_one() for name in ("maria", "omar"))
        comment = {name: db.session.get(Comment, comment_id)
                   for name, comment_id in ids.items()}
        decided = {
            "maria_rejects_abusive": decide(comment["abusive"], maria, "reject",
                                            reason="harassment", note="Personal attack").id,
            "omar_approves_middling": decide(comment["middling"], omar, "approve").id,
            "maria_rejects_scam": decide(comment["scam"], maria, "reject", reason="spam").id,
        }
        decided["maria_undoes_scam"] = undo(comment["scam"], maria).id
        decided.update(
            policy_holds_abusive=only(ids["abusive"], to_state=CommentState.HELD),
            policy_queues_middling=only(ids["middling"], actor_id=None,
                                        to_state=CommentState.QUEUED),
            policy_approves_kind=only(ids["kind"]),
            policy_queues_scam=only(ids["scam"], actor_id=None, reverts_id=None,
                                    to_state=CommentState.QUEUED),
            system_queues_choked=only(ids["choked"]),
        )
        db.session.get(Decision, decided["omar_approves_middling"]).created_at = \
            datetime(2024, 3, 10, 23, 59, 59)
        db.session.get(Decision, decided["policy_approves_kind"]).created_at = \
            datetime(2024, 3, 9, 23, 59, 59)
        db.session.commit()
    return {"comments": ids, "decisions": decided}


def ids_of(log, *names) -> set[int]:
    return {log["decisions"][name] for name in names}


def test_the_log_shows_every_decision_newest_first_with_who_what_and_why(moderator_client, log):
    response = moderator_client.get("/decisions/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    shown = row_ids(html)
    undo_id = log["decisions"]["maria_undoes_scam"]
    assert shown == sorted(set(log["decisions"].values()) - {undo_id}, reverse=True)
    # The undo is not a row of its own: it is written on the row of the decision it undid.
    undone = html[html.index(f'id="decision-{log["decisions"]["maria_rejects_scam"]}"'):]
    undone = undone[:undone.index("</tr>")]
    # How long after depends on the machine's speed: the words, not the seconds.
    assert "rejected by maria" in undone and re.search(r"undone \d+ s later", undone)
    assert f'id="undo-{undo_id}"' in undone
    assert "The bridge is a scam" in undone and "bridge-vote" in undone
    assert f'/decisions/comments/{log["comments"]["scam"]}"' in undone
    assert "policy v1" in html and "by system<" in html and "Personal attack" in html
    assert "harassment" in html and "pending &rarr; held" in html
    # Readers' words are shown, never run.
    assert "<script>alert" not in html and "&lt;script&gt;alert(" in html


def test_each_row_shows_the_author_risk_scorer_and_policy(moderator_client, log):
    html = moderator_client.get("/decisions/").get_data(as_text=True)
    row = html[html.index(f'id="decision-{log["decisions"]["maria_rejects_abusive"]}"'):]
    row = row[:row.index("</tr>")]
    assert '<span class="author">Reader</span>' in row
    assert '<td class="number risk">0.95</td>' in row
    assert '<td class="scorer">fake 1</td>' in row and '<td class="policy">v1</td>' in row
    choked = html[html.index(f'id="decision-{log["decisions"]["system_queues_choked"]}"'):]
    assert '<td class="scorer">unscored</td>' in choked[:choked.index("</tr>")]


def test_an_undo_after_minutes_says_how_long_after_and_by_whom(app, moderator_client, log):
    decisions = log["decisions"]
    with app.app_context():
        rejected = db.session.get(Decision, decisions["maria_rejects_scam"])
        db.session.get(Decision, decisions["maria_undoes_scam"]).created_at = \
            rejected.created_at + timedelta(minutes=2, seconds=5)
        db.session.get(Decision, decisions["maria_undoes_scam"]).actor = make_user("zoe")
        db.session.commit()
    html = moderator_client.get("/decisions/").get_data(as_text=True)
    row = html[html.index(f'id="decision-{decisions["maria_rejects_scam"]}"'):]
    assert "undone 2 min later by zoe" in row[:row.index("</tr>")]


@pytest.mark.parametrize("query, expected", [
    # Undos ride on the row of the decision they undid; action=undo lists them on their own.
    ("moderator=maria", ["maria_rejects_abusive", "maria_rejects_scam"]),
    ("moderator=omar", ["omar_approves_middling"]),
    ("moderator=omar&action=rejected", []),
    ("moderator=policy", ["policy_holds_abusive", "policy_queues_middling",
                          "policy_approves_kind", "policy_queues_scam", "system_queues_choked"]),
    ("action=approved", ["omar_approves_middling", "policy_approves_kind"]),
    ("action=rejected", ["maria_rejects_abusive", "maria_rejects_scam"]),
    ("action=held", ["policy_holds_abusive"]),
    # The undo put the scam comment back in the queue, but it is an undo, not a queueing.
    ("action=queued", ["policy_queues_middling", "policy_queues_scam", "system_queues_choked"]),
    ("action=undo", ["maria_undoes_scam"]),
    ("reason=spam", ["maria_rejects_scam"]),
    ("reason=harassment", ["maria_rejects_abusive"]),
    ("reason=threat", []),
    # What the system wrote: every band the worker chose, and a scorer failure.
    ("reason=band:", ["policy_holds_abusive", "policy_queues_middling", "policy_approves_kind",
                      "policy_queues_scam"]),
    ("reason=unscored", ["system_queues_choked"]),
    ("reason=imported", []),
    ("article=bridge-vote", ["maria_rejects_scam", "policy_queues_scam",
                             "system_queues_choked"]),
    ("moderator=maria&article=harbour-plan", ["maria_rejects_abusive"]),
    # A day runs from its first second to its last, in UTC.
    ("since=2024-03-10&until=2024-03-10", ["omar_approves_middling"]),
    ("until=2024-03-10", ["omar_approves_middling", "policy_approves_kind"]),
    ("since=2024-03-11&action=approved", []),
    ("since=2024-03-10&action=approved", ["omar_approves_middling"]),
])
def test_each_filter_narrows_the_log(moderator_client, log, query, expected):
    response = moderator_client.get(f"/decisions/?{query}")
    assert response.status_code == 200
    shown = row_ids(response.get_data(as_text=True))
    assert shown == sorted(ids_of(log, *expected), reverse=True)
    if not expected:
        assert "No decisions match these filters." in response.get_data(as_text=True)


def next_link(html: str) -> str | None:
    match = re.search(r'<a rel="next" href="([^"]+)">Next page</a>', html)
    return match[1].replace("&amp;", "&") if match else None


@pytest.mark.parametrize("app_config", [{"MODERATION_DECISIONS_PER_PAGE": 2}])
def test_pages_follow_on_without_repeats_and_keep_the_filter(moderator_client, log):
    seen: list[int] = []
    url = "/decisions/?moderator=policy"
    pages = 0
    while url:
        html = moderator_client.get(url).get_data(as_text=True)
        pages += 1
        seen += row_ids(html)
        url = next_link(html)
        if url:
            assert "moderator=policy" in url and "before=" in url
    assert pages == 3  # 5 automatic decisions, 2 a page
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen))
    assert set(seen) == ids_of(log, "policy_holds_abusive", "policy_queues_middling",
                               "policy_approves_kind", "policy_queues_scam",
                               "system_queues_choked")


def read_csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_the_csv_export_has_the_filtered_decisions_and_a_dated_filename(
        moderator_client, log):
    response = moderator_client.get("/decisions/export.csv?moderator=maria", buffered=False)
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="decisions-{utcnow():%Y-%m-%d}.csv"')
    text = response.get_data(as_text=True)
    assert text.splitlines()[0] == ("id,at,by,from_state,to_state,reason,note,comment_id,"
                                    "article_slug,comment_excerpt,author,risk,scorer,"
                                    "policy_version,undone_at,undone_by")
    rows = read_csv(response)
    assert [int(row["id"]) for row in rows] == sorted(
        ids_of(log, "maria_rejects_abusive", "maria_rejects_scam", "maria_undoes_scam"),
        reverse=True)
    undo_row = rows[0]
    assert undo_row["by"] == "maria" and undo_row["reason"] == "undo"
    assert (undo_row["from_state"], undo_row["to_state"]) == ("rejected", "queued")
    assert undo_row["comment_id"] == str(log["comments"]["scam"])
    assert undo_row["article_slug"] == "bridge-vote"
    assert undo_row["comment_excerpt"] == "The bridge is a scam [toxicity=0.6]"
    assert undo_row["at"].endswith("Z")
    assert datetime.fromisoformat(undo_row["at"].removesuffix("Z")) <= utcnow()
    assert rows[2]["note"] == "Personal attack" and rows[2]["reason"] == "harassment"
    assert (rows[2]["author"], rows[2]["risk"], rows[2]["scorer"], rows[2]["policy_version"]) \
        == ("Reader", "0.950", "fake 1", "1")
    # The export keeps every row, undos too, and says on each decision when it was undone.
    assert rows[1]["undone_by"] == "maria" and rows[1]["undone_at"] == undo_row["at"]
    assert rows[2]["undone_by"] == "" and rows[2]["undone_at"] == ""


def test_the_csv_names_policies_and_the_system(moderator_client, log):
    rows = read_csv(moderator_client.get("/decisions/export.csv?moderator=policy"))
    by = {int(row["id"]): row["by"] for row in rows}
    assert by[log["decisions"]["policy_holds_abusive"]] == "policy v1"
    assert by[log["decisions"]["system_queues_choked"]] == "system"
    assert len(rows) == 5


def test_the_export_reads_in_batches_without_losing_or_repeating_rows(ctx, log):
    everything = list(audit.export_rows(batch=2))
    assert [row[0] for row in everything] == sorted(log["decisions"].values(), reverse=True)
    assert list(audit.export_rows(batch=1000)) == everything


def test_csv_cells_that_a_spreadsheet_would_run_are_defused(app, moderator_client, moderator):
    with app.app_context():
        article = make_article(slug="=cmd-story")
        maria = db.session.get(User, moderator)
        formula = make_comment(article, "=HYPERLINK(\"http://evil\",\"click\")",
                               state=CommentState.QUEUED)
        plus = make_comment(article, "+1+2", state=CommentState.QUEUED)
        fine = make_comment(article, "a = b, said nobody", state=CommentState.QUEUED)
        wide = make_comment(article, "＝HYPERLINK(1)", state=CommentState.QUEUED)
        pipe = make_comment(article, "  |cmd!A0", state=CommentState.QUEUED)
        decide(formula, maria, "reject", reason="other", note="@SUM(A1:A9)")
        decide(plus, maria, "reject", reason="other", note="-2+3")
        decide(fine, maria, "approve")
        decide(wide, maria, "reject", reason="other", note="｜cmd")
        decide(pipe, maria, "approve")
        db.session.commit()
    rows = read_csv(moderator_client.get("/decisions/export.csv"))
    cells = {(row["comment_excerpt"], row["note"], row["article_slug"]) for row in rows}
    assert cells == {
        ("'=HYPERLINK(\"http://evil\",\"click\")", "'@SUM(A1:A9)", "'=cmd-story"),
        ("'+1+2", "'-2+3", "'=cmd-story"),
        ("a = b, said nobody", "", "'=cmd-story"),
        ("'＝HYPERLINK(1)", "'｜cmd", "'=cmd-story"),  # full-width forms fold to = and |
        ("'|cmd!A0", "", "'=cmd-story"),  # DDE, after leading spaces (the excerpt trims)
    }


def test_a_comments_history_shows_its_scores_and_every_decision(moderator_client, log):
    decisions = log["decisions"]
    html = moderator_client.get(f"/decisions/comments/{log['comments']['scam']}").get_data(
        as_text=True)
    assert "The bridge is a scam [toxicity=0.6]" in html
    assert "Bridge vote delayed" in html and "Reader" in html
    assert 'class="badge badge-queued">queued<' in html
    assert "<td>fake</td>" in html and "<td>1</td>" in html and "0.600" in html
    order = [decisions["policy_queues_scam"], decisions["maria_rejects_scam"],
             decisions["maria_undoes_scam"]]
    positions = [html.index(f'<li id="decision-{number}"') for number in order]
    assert positions == sorted(positions)
    assert re.findall(r'<li id="decision-(\d+)"', html) == [str(number) for number in order]
    assert (f'<a href="#decision-{decisions["maria_rejects_scam"]}">reverted decision '
            f'#{decisions["maria_rejects_scam"]}</a>') in html
    assert f"undone by #{decisions['maria_undoes_scam']}" in html
    assert "policy v1" in html and "spam" in html


def test_a_history_escapes_what_readers_wrote(moderator_client, log):
    html = moderator_client.get(f"/decisions/comments/{log['comments']['kind']}").get_data(
        as_text=True)
    assert "&lt;script&gt;alert(" in html and "<script>alert" not in html
    assert "Kim &lt;b&gt;bold&lt;/b&gt;" in html


def test_an_unscored_comment_history_says_so(moderator_client, log):
    html = moderator_client.get(f"/decisions/comments/{log['comments']['choked']}").get_data(
        as_text=True)
    assert "Never scored" in html and "the fake scorer was told to fail" in html
    assert ">system<" in html


def test_an_unknown_comment_history_is_404(moderator_client, log):
    assert moderator_client.get("/decisions/comments/999999").status_code == 404


@pytest.mark.parametrize("path", ["/decisions/", "/decisions/export.csv",
                                  "/decisions/comments/{scam}"])
def test_anonymous_visitors_are_sent_to_sign_in_and_see_nothing(client, log, path):
    path = path.format(scam=log["comments"]["scam"])
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    followed = client.get(path, follow_redirects=True).get_data(as_text=True)
    assert "Please sign in" in followed
    for secret in ("bridge is a scam", "Personal attack", "harassment", "maria"):
        assert secret not in response.get_data(as_text=True)
        assert secret not in followed


@pytest.mark.parametrize("query, message", [
    ("action=delete",
     "Unknown action: use one of approved, rejected, queued, held, removed, undo."),
    ("reason=because", "Unknown reason: use one of spam,"),
    ("since=yesterday", "From: write the date as YYYY-MM-DD"),
    ("until=2024-02-30", "To: write the date as YYYY-MM-DD"),
    ("since=2024-05-02&until=2024-05-01", "The start of the date range is after its end."),
    ("moderator=nobody", "There is no moderator called &#39;nobody&#39;."),
    ("article=no-such-story", "There is no article &#39;no-such-story&#39;."),
    ("before=abc", "That page link is broken"),
    ("before=-5", "That page link is broken"),
    ("before=99999999999999999999999", "That page link is broken"),
    (f"moderator={'x' * 81}", "A username is at most 80 characters."),
])
def test_bad_filters_are_a_400_that_says_what_is_wrong(moderator_client, log, query, message):
    for path in ("/decisions/", "/decisions/export.csv"):
        response = moderator_client.get(f"{path}?{query}")
        assert response.status_code == 400, path
        html = response.get_data(as_text=True)
        assert message in html, path
        assert row_ids(html) == [], path


def test_the_far_end_of_the_calendar_is_not_an_error(moderator_client, log):
    response = moderator_client.get("/decisions/?since=0001-01-01&until=9999-12-31")
    assert response.status_code == 200
    # Every decision but the undo, which is shown on the row of the decision it undid.
    assert len(row_ids(response.get_data(as_text=True))) == len(log["decisions"]) - 1


def test_an_admin_sees_the_log_too(app, client, log):
    with app.app_context():
        make_user("ada", Role.ADMIN)
        db.session.commit()
    assert login(client, "ada", PASSWORD).status_code == 302
    assert row_ids(client.get("/decisions/").get_data(as_text=True)) == sorted(
        set(log["decisions"].values()) - {log["decisions"]["maria_undoes_scam"]}, reverse=True)


def statements_for(app, client, url: str) -> int:
    count, response = statements_during_get(app, client, url)
    assert response.status_code == 200
    return count


def add_decisions(app, moderator_ids: list[int], article_ids: list[int], numbers: range):
    """Each on its own comment, spread over several moderators and articles, so loading a
    row's people, comment or article one by one would cost a query per row."""
    with app.app_context():
        moderators = [db.session.get(User, user_id) for user_id in moderator_ids]
        for number in numbers:
            article = db.session.get(Article, article_ids[number % len(article_ids)])
            comment = make_comment(article, f"comment number {number}",
                                   state=CommentState.QUEUED)
            decide(comment, moderators[number % len(moderators)], "reject", reason="spam")
        db.session.commit()


def test_the_log_costs_the_same_few_queries_for_5_rows_as_for_40(app, moderator_client,
                                                                  moderator):
    with app.app_context():
        moderator_ids = [moderator] + [make_user(f"mod{n}").id for n in range(4)]
        article_ids = [make_article().id for _ in range(7)]
        db.session.commit()
    add_decisions(app, moderator_ids, article_ids, range(5))
    url = "/decisions/?reason=spam"
    with_5 = statements_for(app, moderator_client, url)
    add_decisions(app, moderator_ids, article_ids, range(5, 40))
    with_40 = statements_for(app, moderator_client, url)
    html = moderator_client.get(url).get_data(as_text=True)
    assert len(row_ids(html)) == 40
    assert 'by mod3</strong>' in html and "comment number 39" in html
    # The user, their live session (a row per sign-in), the page, and the page's undos.
    assert with_5 == with_40 <= 7


@pytest.mark.parametrize("app_config", [{"MODERATION_DECISIONS_PER_PAGE": 1}])
def test_the_csv_link_and_the_next_page_keep_the_filters(moderator_client, log):
    html = moderator_client.get(
        "/decisions/?moderator=maria&reason=harassment&since=2020-01-01").get_data(as_text=True)
    csv_link = re.search(r'href="(/decisions/export.csv[^"]*)"', html)[1].replace("&amp;", "&")
    for part in ("moderator=maria", "reason=harassment", "since=2020-01-01"):
        assert part in csv_link
    rows = read_csv(moderator_client.get(csv_link))
    assert [int(row["id"]) for row in rows] == [log["decisions"]["maria_rejects_abusive"]]
    html = moderator_client.get("/decisions/?moderator=maria").get_data(as_text=True)
    following = next_link(html)
    assert "moderator=maria" in following
    second = moderator_client.get(following).get_data(as_text=True)
    assert row_ids(second) == [log["decisions"]["maria_rejects_abusive"]]
    assert "moderator=maria" in re.search(r'href="(/decisions/export.csv[^"]*)"', second)[1]
