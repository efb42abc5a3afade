"""Demo content for `flask seed-demo`: articles written for this project, a few reader
comments for the worker to score, and the first admin and moderator accounts."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from moderation.extensions import db
from moderation.models import Article, Comment, CommentState, Role, User
from moderation.services.authors import author_key
from moderation.services.policy import active_policy
from moderation.services.users import UserError, create_user

ARTICLES = [
    {
        "slug": "river-valley-council-approves-flood-barrier",
        "section": "Local",
        "headline": "River Valley council approves a flood barrier after a decade of debate",
        "byline": "By Mara Lindqvist, Local Affairs Reporter",
        "days_ago": 1,
        "tags": ["Flooding", "Council", "Infrastructure"],
        "source_url": "https://example.org/river-valley/council-minutes",
        "source_name": "River Valley council minutes",
        "body": (
            "The River Valley town council voted 7 to 2 on Tuesday night to build a "
            "removable flood barrier along the east bank, ending a debate that began after "
            "the high water of 2016 reached the steps of the library.\n\n"
            "The barrier, a row of steel posts with aluminium panels that crews slot in when "
            "the river rises, will cost an estimated 4.2 million, two thirds of it covered by "
            "a regional resilience grant. Construction is planned for next summer, when the "
            "river is at its lowest.\n\n"
            "Shop owners on Quay Street, several of whom lost stock in the last two floods, "
            "filled the public gallery. \"We have been sandbagging by hand for years,\" said "
            "Ines Okafor, who runs a hardware store two doors from the bridge. \"Tonight felt "
            "like somebody finally listened.\"\n\n"
            "The two councillors who voted against the plan said they supported flood "
            "protection but wanted a study of upstream wetlands first, which they argued could "
            "slow the water more cheaply."
        ),
    },
    {
        "slug": "night-trains-return-to-the-northern-line",
        "section": "Travel",
        "headline": (
            "Night trains return to the northern line, with sleeper cabins and bikes allowed"
        ),
        "byline": "By Tomasz Weber, Transport Correspondent",
        "days_ago": 3,
        "tags": ["Rail", "Travel", "Climate"],
        "source_url": None,
        "source_name": None,
        "body": (
            "For the first time in eleven years, a scheduled night train will run the full "
            "length of the northern line, leaving the capital at 21:40 and arriving at the "
            "coast shortly after seven in the morning.\n\n"
            "The operator has refurbished twelve carriages with two- and four-berth cabins, "
            "a quiet seated coach and, in a first for the route, space for eight bicycles. "
            "Fares start at the price of an ordinary day ticket for a seat and rise for a "
            "private cabin.\n\n"
            "Rail campaigners welcomed the service but warned that it will run only four "
            "nights a week until the spring, when the operator will decide whether bookings "
            "justify a daily train."
        ),
    },
    {
        "slug": "school-gardens-feed-the-canteen",
        "section": "Education",
        "headline": "How three primary schools grew a fifth of their own canteen vegetables",
        "byline": "By Priya Raman, Education Reporter",
        "days_ago": 6,
        "tags": ["Schools", "Food", "Gardening"],
        "source_url": "https://example.org/school-gardens-report",
        "source_name": "School gardens pilot report",
        "body": (
            "Three primary schools on the west side of the city grew about a fifth of the "
            "vegetables served in their canteens last year, according to a report published "
            "on Monday by the pilot's organisers.\n\n"
            "Pupils planted beds of potatoes, beans, courgettes and salad in former car parks "
            "and lawn, with parents and a retired market gardener looking after them during "
            "the holidays. Teachers used the gardens for maths and science lessons, weighing "
            "harvests and tracking rainfall.\n\n"
            "The organisers say the savings on food bills were modest but that children were "
            "noticeably more willing to try vegetables they had grown themselves. Two more "
            "schools have asked to join next year."
        ),
    },
]

# Reader comments for the worker to score: mostly ordinary, some heated, a few abusive,
# so the queue and the article pages have something to show.
COMMENTS = [
    (0, "Jonas", "Good news at last. My parents' basement flooded twice; this is overdue."),
    (0, "Aileen", "Did anyone ask what the maintenance will cost every year after it is built?"),
    (0, "K. Mensah", "The wetlands idea deserves a proper look before we pour concrete."),
    (0, "bridgewatcher", "Those two councillors are idiots and should be voted out. Stupid."),
    (0, "Quay St resident", "I think this plan is rubbish and the council are fools."),
    (0, "anon123", "Shut up you pathetic moron, nobody cares about your stupid town."),
    (1, "Ruth", "I took the old night train as a student. Lovely to see it back, with bikes!"),
    (1, "Pedro", "Four nights a week is a half measure. Run it daily or people won't trust it."),
    (1, "trainhater", "What a fucking waste of money, you absolute clowns."),
    (2, "Mrs Alvarez", "Our school did something similar; the children loved weighing harvests."),
    (2, "Dev", "Lovely project. Would be good to see the report's numbers on cost."),
    (2, "grumpy", "Kids should be learning in classrooms, not playing in the dirt."),
    (2, "xx", "I will find the teacher who wrote this and make them regret it."),
]


def comment_times(published_at: datetime, now: datetime, count: int) -> list[datetime]:
    """When the seeded comments on one article were posted: the first within the hour after
    publication, later ones further apart, the last well before now, oldest first. A demo
    where every comment says "just now" does not read like a real site."""
    span = max(now - published_at, timedelta(hours=2))
    # Gaps grow like a real thread's: quick replies first, stragglers later.
    fractions = [(index + 1) ** 2 / (count + 1) ** 2 for index in range(count)]
    return [min(published_at + span * fraction * 0.9, now - timedelta(minutes=5))
            for fraction in fractions]


@dataclass(frozen=True)
class SeededAccount:
    username: str
    role: str
    created: bool
    generated_password: str | None  # shown once; None when it came from the environment


@dataclass
class SeedResult:
    articles_created: int
    comments_created: int
    accounts: list[SeededAccount]


def seed_articles(now: datetime) -> tuple[int, int]:
    articles_created = comments_created = 0
    for spec in ARTICLES:
        article = db.session.execute(
            db.select(Article).where(Article.slug == spec["slug"])
        ).scalar_one_or_none()
        if article is None:
            fields = {key: value for key, value in spec.items() if key != "days_ago"}
            article = Article(**fields, published_at=now - timedelta(days=spec["days_ago"]))
            db.session.add(article)
            articles_created += 1
            db.session.flush()
            mine = [(author, body) for index, author, body in COMMENTS
                    if ARTICLES[index]["slug"] == spec["slug"]]
            times = comment_times(article.published_at, now, len(mine))
            for (author, body), posted_at in zip(mine, times, strict=True):
                db.session.add(Comment(
                    article=article, author_name=author, body=body, created_at=posted_at,
                    author_key=author_key(author, None, None),
                    public_token=secrets.token_urlsafe(24), state=CommentState.PENDING,
                ))
                comments_created += 1
    return articles_created, comments_created


def seed(now: datetime, *, admin_password: str | None, moderator_password: str | None):
    active_policy()
    articles, comments = seed_articles(now)
    accounts = []
    for username, role, given in (("admin", Role.ADMIN, admin_password),
                                  ("moderator", Role.MODERATOR, moderator_password)):
        exists = db.session.execute(
            db.select(User).where(User.username == username)
        ).scalar_one_or_none()
        if exists:
            accounts.append(SeededAccount(username, role.value, False, None))
            continue
        password = given or secrets.token_urlsafe(15)
        try:
            create_user(username, password, role)
        except UserError as error:
            source = f"MODERATION_{username.upper()}_PASSWORD"
            raise UserError(f"{source}: {error}") from None
        accounts.append(SeededAccount(username, role.value, True, None if given else password))
    return SeedResult(articles, comments, accounts)
