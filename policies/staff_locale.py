"""The language and time zone a staff member reads Recourse in: their staff pages, the
notices and email sent to them, the times in them.

A child's pages never come here: the child picks their own language (LocaleMiddleware,
intake/), and their dates read in the unit's zone (intake/views.py).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import date_format

from policies.models import Membership, StaffProfile, Unit
from policies.selectors import unit_time_zone


@dataclass(frozen=True)
class StaffLocale:
    language: str
    time_zone: zoneinfo.ZoneInfo
    # The person's own choice ("" when they follow their unit's language).
    chosen_language: str = ""
    # Their home unit, whose language and zone apply by default (None: no unit).
    unit: Unit | None = None

    @property
    def zone_name(self) -> str:
        return self.time_zone.key


def staff_home_unit(user) -> Unit | None:
    """The unit whose language and time zone a person reads by default.

    A person in several units reads in their first one: the active membership they
    were given first (then the lowest id, for memberships created together). Their
    first unit is most often where they work; the order never changes when a later
    unit is added, so nobody's pages switch language under them. A focal point and a
    manager count alike: both are staff of the unit."""
    membership = (
        Membership.objects.filter(user=user, is_active=True, unit__is_active=True)
        .select_related("unit")
        .order_by("created_at", "pk")
        .first()
    )
    return membership.unit if membership else None


def staff_locale_for(user, *, fallback_language: str | None = None) -> StaffLocale:
    """The person's chosen language, else their home unit's, else `fallback_language`
    (the browser's, on a page) or the site's; their home unit's zone, else the site's."""
    chosen = StaffProfile.objects.filter(user=user).values_list("language", flat=True).first() or ""
    unit = staff_home_unit(user)
    language = (
        chosen
        or (unit.default_language if unit else "")
        or fallback_language
        or settings.LANGUAGE_CODE
    )
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    zone = unit_time_zone(unit) if unit else zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return StaffLocale(language=language, time_zone=zone, chosen_language=chosen, unit=unit)


@contextmanager
def staff_locale_override(locale: StaffLocale) -> Iterator[StaffLocale]:
    """Render in the person's language and zone; both are restored afterwards, so a
    worker thread or the next request on this thread starts clean."""
    with translation.override(locale.language), timezone.override(locale.time_zone):
        yield locale


def staff_time(value: datetime | None) -> str:
    """A date and time as staff read it: in the active zone (the person's unit's), in
    the active language's format, with the zone named: "3 December 2026, 09:00
    (Africa/Dakar)". Staff of several units and oversight bodies compare times across
    zones, so the zone is always said."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    zone = timezone.get_current_timezone()
    return f"{date_format(local, 'DATETIME_FORMAT')} ({getattr(zone, 'key', str(zone))})"
