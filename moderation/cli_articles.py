"""`flask article`: add or change an article by its CMS key, and list articles, from a shell
(a newsroom's import script, or an editor without the admin pages)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from moderation.extensions import db


class Refused(click.ClickException):
    """A value the article rules refuse: the reason, exit status 2 (as for a bad option)."""

    exit_code = 2


@click.group("article")
def article_cli() -> None:
    """Add, change and list articles (the same rules as the API and the admin pages)."""


@article_cli.command("upsert")
@with_appcontext
@click.argument("key")
@click.option("--headline", help="The headline (needed for a new article).")
@click.option("--url", "canonical_url", metavar="URL",
              help="Where readers find the article: a full http(s) address.")
@click.option("--section", help="The section, such as Local.")
@click.option("--byline", help="Who wrote it.")
@click.option("--published-at", metavar="WHEN",
              help="When it was published: ISO 8601, like 2024-05-01T09:00:00Z.")
@click.option("--site", metavar="NAME", help="The site it belongs to, by name ('' for none).")
@click.option("--open/--closed", "comments_open", default=None,
              help="Take comments or refuse them.")
@click.option("--premoderate/--no-premoderate", default=None,
              help="Every comment waits for a moderator, or the policy decides.")
def upsert(key: str, site: str | None, **options) -> None:
    """Create the article with the CMS key KEY, or change it. Only the options given change;
    running it twice changes nothing the second time."""
    from moderation.services import articles

    values = {field: value for field, value in options.items() if value is not None}
    try:
        if site is not None:
            values["site_id"] = articles.site_named(site).id if site.strip() else None
        article, outcome = articles.upsert_outcome(None, key, values, source="cli")
    except articles.ArticleError as error:
        db.session.rollback()
        raise Refused(str(error)) from None
    db.session.commit()
    click.echo(f"{outcome.capitalize()}: {article.external_key} “{article.headline}”.")


@article_cli.command("list")
@with_appcontext
@click.option("--site", metavar="NAME", help="Only this site's articles.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True,
              help="At most this many, newest first.")
def list_articles(site: str | None, limit: int) -> None:
    """List articles, newest first: published date, comments open or closed, key, headline."""
    from moderation.services import articles

    try:
        site_id = articles.site_named(site).id if site is not None else None
    except articles.ArticleError as error:
        raise Refused(str(error)) from None
    shown, cursor = 0, None
    while shown < limit:
        found = articles.page(limit=min(articles.MAX_PAGE, limit - shown), cursor=cursor,
                              site_id=site_id)
        for article in found.articles:
            state = ("open" if article.comments_open else "closed") + \
                (", pre-moderated" if article.premoderate else "")
            click.echo(f"{article.published_at:%Y-%m-%d}  {state:<22}  "
                       f"{article.external_key or '(no key: ' + article.slug + ')'}  "
                       f"{article.headline}")
        shown += len(found.articles)
        if not found.next_cursor:
            break
        cursor = found.next_cursor
    if not shown:
        click.echo("No articles." if site is None else f"No articles on {site}.")
