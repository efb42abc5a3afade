"""Admin: the news sites that embed comments (their origins, anonymous posting, article
auto-registration, the sign-in secret, theme and font)."""

import secrets

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from moderation.admin.base import bp
from moderation.admin.forms_sites import SiteForm
from moderation.extensions import db
from moderation.services import sites

# Which field a SiteError from sites.save belongs beside, by what its message talks about.
_FIELD_WORDS = (("secret", "sso_secret"), ("font", "font"), ("theme", "theme"),
                ("origin", "origins"), ("wildcard", "origins"), ("host", "origins"))


def _field_for(message: str) -> str:
    lowered = message.lower()
    return next((field for word, field in _FIELD_WORDS if word in lowered), "name")


def _page(form, site=None, status=200):
    return render_template("admin/site_form.html", form=form, site=site,
                           fresh_secret=secrets.token_hex(32)), status


@bp.get("/sites")
def sites_list():
    return render_template("admin/sites.html", sites=sites.all_sites())


@bp.route("/sites/new", methods=["GET", "POST"])
def site_new():
    form = SiteForm(data={"allow_anonymous": True, "theme": "auto"})
    return _save(form, None)


@bp.route("/sites/<id:site_id>", methods=["GET", "POST"])
def site_edit(site_id):
    site = sites.get_site(site_id) or abort(404, "There is no such site.")
    form = SiteForm(data={"name": site.name, "origins": "\n".join(site.origins or []),
                          "allow_anonymous": site.allow_anonymous,
                          "auto_register": site.auto_register, "theme": site.theme,
                          "font": site.font or ""})
    return _save(form, site)


def _save(form, site):
    if not form.is_submitted():
        return _page(form, site)
    if not form.validate():
        return _page(form, site, 400)
    try:
        saved = sites.save(
            current_user, site, name=form.name.data, origins=form.origins.data,
            allow_anonymous=form.allow_anonymous.data, auto_register=form.auto_register.data,
            theme=form.theme.data, font=form.font.data,
            sso_secret=None if form.remove_secret.data else form.sso_secret.data,
            keep_secret=not form.remove_secret.data)
    except sites.SiteError as error:
        db.session.rollback()
        getattr(form, _field_for(str(error))).errors.append(str(error))
        return _page(form, site, 400)
    db.session.commit()
    flash(f"“{saved.name}” is saved.", "success")
    return redirect(url_for("admin.sites_list"), code=303)
