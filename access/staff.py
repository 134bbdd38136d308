"""The gate in front of every staff page, and the shape every staff action on a case
shares: signed in with both factors, POST only, the case looked up through the
person's own reach (another unit's case is a 404), back to the case page after."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from access.cases import case_for_focal_point


def verified_staff_required(view):
    """Password and second factor both, or back to the step that is missing."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("staff:login"))
        if not request.user.is_verified():
            return redirect_to_login(request.get_full_path(), reverse("staff:verify"))
        return view(request, *args, **kwargs)

    return wrapper


def staff_case_post(view):
    """A staff action on one case: `view(request, case)` for the case of the URL's
    reference. POST data stays out of error reports: replies, notes and reasons may
    name a child."""

    @verified_staff_required
    @sensitive_post_parameters()
    @require_POST
    @wraps(view)
    def wrapper(request, reference: str):
        case = case_for_focal_point(request.user, reference)
        if case.purged_at is not None:
            # Its keys and content are gone: nothing can be read, added or changed.
            messages.error(
                request,
                _("This case's content was removed under the retention policy: it cannot change."),
            )
            return redirect(case_url(case))
        return view(request, case)

    return wrapper


def case_url(case, section: str = "") -> str:
    """The case page, at the section an action was taken from."""
    url = reverse("staff:case", args=[case.reference])
    return f"{url}#{section}" if section else url


def case_refused(request, case, error, section: str = ""):
    """A service said no (a ComplaintError): its message, back to the case page."""
    messages.error(request, str(error.message))
    return redirect(case_url(case, section))
