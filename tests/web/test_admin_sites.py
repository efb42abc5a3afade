"""An admin registers the news sites that embed comments: allowed origins, anonymous posting,
auto-registration, the sign-in secret (never shown back), theme and font."""

from moderation.extensions import db
from moderation.models import AdminEvent, Site


def site_form(**values) -> dict:
    data = {"name": "Daily Bugle", "origins": "https://bugle.example\nhttps://*.bugle.example",
            "allow_anonymous": "y", "theme": "auto", "font": "Georgia, serif",
            "sso_secret": ""}
    data.update(values)
    return {key: value for key, value in data.items() if value is not None}


def saved_sites(app) -> list[Site]:
    with app.app_context():
        rows = list(db.session.execute(db.select(Site).order_by(Site.id)).scalars())
        db.session.expunge_all()
        return rows


def test_an_admin_adds_a_site_and_sees_it_listed(app, admin_client):
    secret = "s" * 40
    added = admin_client.post("/admin/sites/new", data=site_form(sso_secret=secret,
                                                                 auto_register="y"))
    assert added.status_code == 303
    [site] = saved_sites(app)
    assert site.origins == ["https://bugle.example", "https://*.bugle.example"]
    assert (site.allow_anonymous, site.auto_register, site.sso_secret) == (True, True, secret)
    listing = admin_client.get("/admin/sites").get_data(as_text=True)
    assert "Daily Bugle" in listing and "https://*.bugle.example" in listing
    assert "secret set" in listing and secret not in listing
    edit = admin_client.get(f"/admin/sites/{site.id}").get_data(as_text=True)
    assert secret not in edit and "A secret is set; it is never shown" in edit
    with app.app_context():
        assert db.session.execute(db.select(AdminEvent.action)).scalars().all()[-1] \
            == "site.create"


def test_editing_keeps_the_secret_unless_removed(app, admin_client):
    admin_client.post("/admin/sites/new", data=site_form(sso_secret="s" * 40))
    [site] = saved_sites(app)
    admin_client.post(f"/admin/sites/{site.id}", data=site_form(allow_anonymous=None,
                                                                theme="dark"))
    [site] = saved_sites(app)
    assert (site.sso_secret, site.allow_anonymous, site.theme) == ("s" * 40, False, "dark")
    admin_client.post(f"/admin/sites/{site.id}", data=site_form(remove_secret="y"))
    assert saved_sites(app)[0].sso_secret is None


def test_mistakes_are_shown_beside_their_fields_and_nothing_is_saved(app, admin_client):
    for values, says in (
        ({"origins": "https://bugle.example/comments"}, "has a path"),
        ({"sso_secret": "short"}, "at least 32 characters"),
        ({"font": "x; background: url(evil)"}, "CSS font-family"),
        ({"name": ""}, "1 to 120 characters"),
    ):
        page = admin_client.post("/admin/sites/new", data=site_form(**values))
        assert page.status_code == 400
        html = page.get_data(as_text=True)
        assert 'class="field has-error"' in html and says in html
    assert saved_sites(app) == []


def test_moderators_cannot_reach_the_sites_page(moderator_client):
    assert moderator_client.get("/admin/sites").status_code == 403
