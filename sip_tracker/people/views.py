"""Pages about a person: details, vårdnadshavare and närstående."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import exists, select
from werkzeug.wrappers import Response
from wtforms import BooleanField

from sip_tracker.auth.models import Role
from sip_tracker.cases.access import sees_person_details, visible_related, visible_to
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.forms import version_field
from sip_tracker.people import services
from sip_tracker.people.forms import PersonFields, RelatedPersonFields
from sip_tracker.people.models import Person, RelationKind
from sip_tracker.web import attempt, log_read, page

bp = Blueprint("people", __name__, url_prefix="/people")


class PersonForm(FlaskForm, PersonFields):
    protected_identity = BooleanField(
        _l("Skyddade personuppgifter (sekretessmarkering eller skyddad folkbokföring)")
    )
    lock_version = version_field()


class RelatedPersonForm(FlaskForm, RelatedPersonFields):
    pass


def load_person(person_id: int) -> Person:
    """The person, if one of their cases is visible to the user; a GET is logged as a read."""
    person = db.session.get(Person, person_id)
    visible = db.session.scalar(
        select(exists().where(SipCase.person_id == person_id, visible_to(current_user)))
    )
    if person is None or not visible:
        abort(404)
    log_read("person.read", person_id=person.id)
    return person


def _cases_of(person: Person) -> list[SipCase]:
    query = (
        select(SipCase)
        .where(SipCase.person_id == person.id, visible_to(current_user))
        .order_by(SipCase.created_at.desc())
    )
    return list(db.session.scalars(query))


@bp.route("/<int:person_id>", methods=["GET", "POST"])
@login_required
def show(person_id: int) -> Response | tuple[str, int]:
    """The person's details and people close to them; the form adds a related person."""
    person = load_person(person_id)
    form = RelatedPersonForm()
    if request.method == "POST":
        if current_user.role == Role.GRANSKARE:
            abort(403)
        if form.validate_on_submit():
            done = attempt(
                form,
                lambda: services.add_related_person(
                    person,
                    user=current_user,
                    kind=RelationKind(form.kind.data),
                    name=form.name.data or "",
                    relation=form.relation.data,
                    phone=form.phone.data,
                    email=form.email.data,
                    address=form.address.data,
                ),
                "name",
            )
            if done.ok:
                flash(_("%(name)s är tillagd.", name=form.name.data), "success")
                return redirect(url_for("people.show", person_id=person.id))
    return page(
        "people/show.html",
        form=form,
        person=person,
        cases=_cases_of(person),
        details=sees_person_details(current_user, person),
        related=visible_related(current_user, person),
    )


@bp.route("/<int:person_id>/edit", methods=["GET", "POST"])
@login_required
def edit(person_id: int) -> Response | tuple[str, int]:
    person = load_person(person_id)
    if current_user.role == Role.GRANSKARE or not sees_person_details(current_user, person):
        abort(403)
    form = PersonForm(obj=person if request.method == "GET" else None)
    if form.validate_on_submit():
        done = attempt(
            form,
            lambda: services.update_person(
                person,
                user=current_user,
                given_name=form.given_name.data or "",
                family_name=form.family_name.data or "",
                phone=form.phone.data,
                email=form.email.data,
                address=form.address.data,
                protected_identity=form.protected_identity.data,
                lock_version=form.lock_version.data,
            ),
        )
        if done.ok:
            flash(_("Personuppgifterna är sparade."), "success")
            return redirect(url_for("people.show", person_id=person.id))
    return page("people/edit.html", form=form, person=person)
