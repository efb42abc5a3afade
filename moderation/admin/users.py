"""Admin: users. Create accounts, change roles, deactivate and reactivate, reset passwords.
Every change asks for a recent sign-in (reauth.sensitive) and goes to the admin log."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from moderation.admin.base import bp
from moderation.admin.forms_users import (
    CreateUserForm,
    DeactivateForm,
    EmailForm,
    RoleForm,
    UserActionForm,
)
from moderation.auth.reauth import sensitive
from moderation.extensions import db
from moderation.models import Role
from moderation.services import users as accounts

# A page showing a temporary password must not be kept by the browser or a proxy.
NO_STORE = {"Cache-Control": "no-store"}


def _page(form=None, *, errors=(), shown_password=None, shown_for=None, status=200):
    return render_template(
        "admin/users.html",
        users=accounts.list_users(),
        form=form if form is not None else CreateUserForm(formdata=None),
        role_form=RoleForm(formdata=None),
        errors=errors,
        shown_password=shown_password,
        shown_for=shown_for,
        min_length=accounts.MIN_PASSWORD_LENGTH,
    ), status, (NO_STORE if shown_password else {})


def _user_or_404(user_id: int):
    return accounts.get_user(user_id) or abort(404, "There is no such user.")


def _refused(error: accounts.UserError):
    """A rule said no: undo anything flushed, show the list with why."""
    db.session.rollback()
    status = 409 if isinstance(error, accounts.LastAdminError) else 400
    return _page(errors=[str(error)], status=status)


def _expired_form():
    return _page(errors=["This form has expired. Reload the page and try again; nothing was "
                         "changed."], status=400)


@bp.get("/users")
def users():
    return _page()


@bp.post("/users")
@sensitive
def create_user():
    form = CreateUserForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    try:
        user, generated = accounts.create_account(
            current_user, form.username.data, Role(form.role.data), form.password.data or None,
            email=form.email.data or None)
    except accounts.UserError as error:
        db.session.rollback()
        return _page(form, errors=[str(error)], status=400)
    db.session.commit()
    if generated is None:
        flash(f"Created {user.username} ({user.role.value}). They choose their own password "
              "at first sign-in.", "success")
        return redirect(url_for("admin.users"), code=303)
    # Shown in this response only: not in a redirect, a flash (the session cookie) or a log.
    return _page(shown_password=generated, shown_for=user, status=201)


@bp.post("/users/<id:user_id>/role")
@sensitive
def change_role(user_id):
    user = _user_or_404(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        messages = form.role.errors or ["This form has expired. Reload the page and try "
                                        "again; nothing was changed."]
        return _page(errors=messages, status=400)
    try:
        changed = accounts.change_role(current_user, user, Role(form.role.data))
    except accounts.UserError as error:
        return _refused(error)
    db.session.commit()
    if changed:
        flash(f"{user.username} is now {'an admin' if user.is_admin else 'a moderator'}.",
              "success")
    else:
        flash(f"{user.username} already had that role; nothing was changed.", "info")
    return redirect(url_for("admin.users"), code=303)


def _set_active(user_id: int, active: bool):
    user = _user_or_404(user_id)
    if not UserActionForm().validate_on_submit():
        return _expired_form()
    try:
        changed = accounts.set_active(current_user, user, active)
    except accounts.UserError as error:
        return _refused(error)
    db.session.commit()
    if not changed:
        flash(f"{user.username} was already {'active' if active else 'deactivated'}.", "info")
    elif active:
        flash(f"Reactivated {user.username}: they can sign in again.", "success")
    else:
        flash(f"Deactivated {user.username}: they cannot sign in and their API tokens are "
              "refused.", "success")
    return redirect(url_for("admin.users"), code=303)


@bp.get("/users/<id:user_id>/deactivate")
def confirm_deactivate(user_id):
    """Ask before deactivating: a page of its own, so it works without JavaScript."""
    return render_template("admin/user_deactivate.html", user=_user_or_404(user_id),
                           form=DeactivateForm(formdata=None))


@bp.post("/users/<id:user_id>/deactivate")
@sensitive
def deactivate_user(user_id):
    form = DeactivateForm()
    if form.validate_on_submit() and not form.confirm.data:
        # The list's button, or the box left unticked: ask, change nothing.
        return render_template("admin/user_deactivate.html", user=_user_or_404(user_id),
                               form=form)
    return _set_active(user_id, False)


@bp.post("/users/<id:user_id>/email")
@sensitive
def change_email(user_id):
    user = _user_or_404(user_id)
    form = EmailForm()
    if not form.validate_on_submit():
        return _page(errors=form.email.errors or ["This form has expired. Reload the page "
                                                  "and try again; nothing was changed."],
                     status=400)
    try:
        changed = accounts.set_email(current_user, user, form.email.data)
    except accounts.UserError as error:
        return _refused(error)
    db.session.commit()
    flash(f"{user.username}'s email is now {user.email or 'not set'}." if changed
          else f"{user.username}'s email was already that; nothing was changed.",
          "success" if changed else "info")
    return redirect(url_for("admin.users"), code=303)


@bp.post("/users/<id:user_id>/activate")
@sensitive
def activate_user(user_id):
    return _set_active(user_id, True)


@bp.post("/users/<id:user_id>/reset-password")
@sensitive
def reset_password(user_id):
    user = _user_or_404(user_id)
    if not UserActionForm().validate_on_submit():
        return _expired_form()
    password = accounts.reset_password(current_user, user)
    db.session.commit()
    return _page(shown_password=password, shown_for=user)
