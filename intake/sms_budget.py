"""Every SMS a child can get, rendered with the longest values it may carry, so its
length can be checked in each language: two segments at most (GSM-7: 306 characters;
UCS-2, e.g. Arabic: 134). Read by the budget test (tests/intake/test_sms.py) and by
`manage.py language_report`, for a language a unit adds."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy

from complaints.models import Case
from intake.sms import category_menu, language_menu, welcome_text
from notifications.sms import render_sms
from policies.categories import SMS_LABELS
from policies.models import Unit

# Carries the focal point's own words: its length is theirs.
UNCHECKED = {"staff_reply"}
# Each variant a template renders differently with (the longest texts come from these).
VARIANTS = {
    "case_update": [
        {"status": status}
        for status in (
            "acknowledged",
            "substantiated",
            "unsubstantiated",
            "referred",
            "upheld",
            "changed",
        )
    ],
    "rate_ask": [{"unsafe": True, "question": q} for q in (0, 1, 2)]
    + [{"first": True, "question": 0}, {"again": True, "question": 1}],
    "rate_thanks": [{"unsafe": True}, {"unsafe": False}],
    # The refusals a REVIEW can get (complaints.reviews), worded in the child's language.
    "review_refused": [
        {"refusal": gettext_lazy(refusal)}
        for refusal in (
            "Your complaint was passed to another service, so there is no decision here to review.",
            "Nobody else reviews the decisions of this place here. If something new happened, "
            "you can make a new complaint.",
            "We cannot send a review to the office above this place right now. Please try "
            "again in a few days.",
        )
    ],
    # A photo, a voice message or both (intake.media), with the complaint or before it, and
    # a file refused beside them; a refusal alone, too big or of a type not kept.
    "media_received": [
        {"kind": kind, "case": case, "refused": refused}
        for kind in ("photo", "audio", "several")
        for case in (None, "case")
        for refused in (True, False)
    ],
    "media_refused": [{"too_big": True, "max_mb": 5}, {"too_big": False}],
    "review_asked": [
        {"again": again, "with_reason": reason, "in_danger": True}
        for again in (True, False)
        for reason in (True, False)
    ],
}


def sms_template_names() -> list[str]:
    """Every SMS template but the partials (_*.txt) and those with staff's own words."""
    folder = Path(settings.BASE_DIR) / "templates" / "sms"
    return sorted(
        path.stem
        for path in folder.glob("*.txt")
        if not path.stem.startswith("_") and path.stem not in UNCHECKED
    )


def longest_context() -> dict:
    """Values as long as real ones get: a unit code of 16 characters, two emergency
    contacts with long labels, six units with long names, five open cases."""
    unit = Unit(code="ABCDEFGHIJKLMNOP", name="x", default_language="fr")
    case = Case(reference="K7QM4TPX", unit=unit, in_danger=True, acknowledge_due_at=timezone.now())
    long_units = [
        Unit(code=f"CODE{i:012d}"[:16], name="Centre national de protection de l'enfance")
        for i in range(6)
    ]
    return {
        "emergency_contacts": [
            {"label": "Allô 808 (ligne d'aide aux enfants)", "number": "808"},
            {"label": "Police nationale du Sénégal", "number": "+221338234567"},
        ],
        "hours": 24,
        "units": long_units,
        "unit": unit,
        "offer_language": True,
        "languages": language_menu(None),
        "labels": list(enumerate(SMS_LABELS.values(), start=1)),
        "case": case,
        "code": "1234 5678 9012",
        "reference": "K7QM-4TPX",
        "references": ["K7QM-4TPX"] * 5,
        "status_text": "We looked carefully but could not show that it happened.",
        "more": 4,
        "date": timezone.now(),
        "status": "substantiated",
    }


def _case_of(variant: dict, context: dict) -> dict:
    """A variant says "case" for the sample case, None for none."""
    if "case" not in variant:
        return {}
    return {"case": context["case"] if variant["case"] else None}


def category_menu_pages(codes: list[str], language: str) -> list[str]:
    """The category menu as the child gets it: one text, or its pages."""
    pages, start = [], 0
    while start < len(codes):
        text, shown = category_menu(codes, language, start)
        pages.append(text)
        start += len(shown)
    return pages


def sms_samples(language: str) -> list[tuple[str, str]]:
    """(template name, text) for every SMS a child can get in `language`, each variant
    of it, with the longest values (a long unit menu gives way to asking for the code,
    a long category menu comes in pages, as they do in the conversation)."""
    context = longest_context()
    samples = []
    for name in sms_template_names():
        if name in ("welcome", "welcome_danger"):
            texts = [welcome_text(language, context["units"], in_danger=name == "welcome_danger")]
        elif name == "ask_category":
            texts = category_menu_pages(list(SMS_LABELS), language)
        else:
            variants = VARIANTS.get(name, [{}])
            texts = [
                render_sms(name, language, **{**context, **v, **_case_of(v, context)})
                for v in variants
            ]
        samples += [(name, text) for text in texts]
    return samples
