"""Admin forms: an article made or edited by hand. The rules (lengths, URLs, keys, dates) are
services/articles' own; the form only reads text and says which field a refusal is about."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from moderation.models import Article
from moderation.services.sites import all_sites
from moderation.validators import no_binary, strip

# services.articles names a refused field by its key; the form field showing it.
FIELD_FOR = {"key": "external_key", "headline": "headline", "canonical_url": "canonical_url",
             "section": "section", "byline": "byline", "published_at": "published_at",
             "site_id": "site_id"}


class ArticleForm(FlaskForm):
    headline = StringField("Headline", filters=[strip],
                           validators=[DataRequired("Give the article its headline."),
                                       no_binary])
    canonical_url = StringField("Address of the article on your site", filters=[strip],
                                validators=[no_binary],
                                render_kw={"placeholder": "https://news.example/2024/05/story"})
    section = StringField("Section", filters=[strip], validators=[no_binary])
    byline = StringField("Byline", filters=[strip], validators=[no_binary])
    published_at = StringField("Published (UTC)", filters=[strip], validators=[no_binary],
                               render_kw={"placeholder": "2024-05-01T09:00"})
    external_key = StringField("Key in your CMS (optional)", filters=[strip],
                               validators=[no_binary],
                               render_kw={"placeholder": "2024/05/flood-barrier"})
    site_id = SelectField("Site", default="")
    comments_open = BooleanField("Comments open", default=True)
    premoderate = BooleanField("Pre-moderate every comment")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.site_id.choices = [SelectChoice("", "No site")] + [
            SelectChoice(str(site.id), site.name) for site in all_sites()]

    @classmethod
    def of(cls, article: Article) -> "ArticleForm":
        return cls(formdata=None, headline=article.headline,
                   canonical_url=article.canonical_url or "", section=article.section,
                   byline=article.byline, published_at=_moment(article),
                   external_key=article.external_key or "",
                   site_id=str(article.site_id or ""), comments_open=article.comments_open,
                   premoderate=article.premoderate)

    def values(self) -> dict:
        """The fields as services.articles takes them (the key is passed on its own)."""
        return {"headline": self.headline.data, "canonical_url": self.canonical_url.data,
                "section": self.section.data, "byline": self.byline.data,
                "published_at": self.published_at.data or None,
                "site_id": int(self.site_id.data) if self.site_id.data else None,
                "comments_open": bool(self.comments_open.data),
                "premoderate": bool(self.premoderate.data)}

    def refuse(self, field: str | None, message: str) -> None:
        """Show a refusal from the service beside its field (the headline's if unknown)."""
        target = getattr(self, FIELD_FOR.get(field or "", "headline"))
        target.errors = [*target.errors, message]


def _moment(article: Article) -> str:
    """The stored time as typed back: to the minute when that is all it has, else in full (a
    form saved unchanged must not move it)."""
    moment = article.published_at
    if moment is None:
        return ""
    whole_minute = moment.second == 0 and moment.microsecond == 0
    return moment.isoformat(timespec="minutes" if whole_minute else "auto")
