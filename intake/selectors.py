from django.urls import Resolver404, resolve

from intake.models import InboundMedia
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


def case_media(case) -> list[InboundMedia]:
    """The photos and voice messages of a case that are sealed and ready to open, oldest
    first, without their bytes (one query; each is opened by its own audited request)."""
    return list(
        InboundMedia.objects.filter(case=case, status=InboundMedia.Status.SENT)
        .exclude(content=None)
        .defer("content", "draft_content")
        .order_by("received_at", "pk")
    )


def case_media_item(case, media_id) -> InboundMedia | None:
    """One sealed photo or voice message of this case; None for any other id."""
    return InboundMedia.objects.filter(case=case, pk=media_id).exclude(content=None).first()
