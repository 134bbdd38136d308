"""Error pages a child can meet on the way to filing (settings.CSRF_FAILURE_VIEW and the
handlers in config/urls.py): the reporter layout, in the visitor's language, and, when
the page belongs to a unit (/u/<code>/...), that unit's emergency numbers from its
policy in force. No number is written here or in the templates."""

import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.views.decorators.csrf import requires_csrf_token

from intake.selectors import unit_from_path
from policies.selectors import unit_emergency_contacts

logger = logging.getLogger(__name__)


def _unit_context(request) -> dict:
    try:
        unit = unit_from_path(request.path_info)
        contacts = unit_emergency_contacts(unit) if unit else []
    except DatabaseError:
        # The page must still say what happened; the template falls back to words
        # that need no number.
        logger.warning("error page without the unit's emergency numbers: database error")
        return {"unit": None, "emergency_contacts": []}
    return {"unit": unit, "emergency_contacts": contacts}


@requires_csrf_token
def bad_request(request, exception):
    # Nothing from the exception reaches the page (as Django's own handler).
    return render(request, "400.html", _unit_context(request), status=400)


@requires_csrf_token
def permission_denied(request, exception):
    return render(request, "403.html", _unit_context(request), status=403)


def csrf_failure(request, reason=""):
    """A form came back without a valid CSRF token: often a page left open until its
    cookie went (the browser closed in between). Django's page is English-only,
    for developers, and has no landmarks."""
    return render(request, "403_csrf.html", _unit_context(request), status=403)


def server_error(request):
    """Static on purpose: no database, no translations (all three languages are on
    the page), no context processors. Only settings: the quick-exit address and the
    stylesheet's."""
    context = {"exit_url": settings.QUICK_EXIT_URL, "stylesheet": _static("recourse/site.css")}
    return HttpResponseServerError(loader.render_to_string("500.html", context))


def _static(path: str) -> str:
    try:
        return static(path)
    except ValueError:  # not in the manifest: WhiteNoise also serves the unhashed name
        return settings.STATIC_URL + path
