from django.urls import Resolver404, resolve

from policies.models import Unit
from policies.selectors import units_open_to_reporters


def unit_from_path(path: str) -> Unit | None:
    """The unit a reporter page belongs to (/u/<code>/, its poster, its leaflet), from
    a request's path_info; None for any other path or a unit children cannot reach.
    Error pages that no view resolved a unit for use it to show the unit's numbers."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    code = match.kwargs.get("code")
    if match.namespace != "intake" or not isinstance(code, str):
        return None
    return units_open_to_reporters().filter(code=code.upper()).first()
