"""Short replies a focal point can start from; each is sent in the child's language,
and free text can follow it."""

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from policies.selectors import policy_emergency_contacts

REPLY_TEMPLATES = {
    "thanks": (
        _("Thank you, we are looking into it"),
        _("Thank you for telling us. We are looking into it."),
    ),
    "more": (
        _("Ask for more details"),
        _("Can you tell us more about when and where it happened?"),
    ),
    "safe": (
        _("Check the child is safe"),
        _("Are you safe now? If you are in danger, call %(numbers)s."),
    ),
    "meet": (
        _("Offer to talk in person"),
        _("Would you like to talk to someone from our team in person? Tell us when suits you."),
    ),
}


def reply_template_choices() -> list[tuple[str, str]]:
    return [
        ("", _("No template: my own words")),
        *((k, label) for k, (label, _t) in REPLY_TEMPLATES.items()),
    ]


def compose_reply(*, template: str, body: str, case) -> str:
    """The template in the child's language, then the focal point's own words. The
    emergency numbers are those of the case's policy."""
    parts = []
    if template in REPLY_TEMPLATES:
        with translation.override(case.language):
            text = str(REPLY_TEMPLATES[template][1])
            if "%(numbers)s" in text:
                numbers = [c["number"] for c in policy_emergency_contacts(case.policy)]
                text = text % {"numbers": _(" or ").join(numbers) or _("your emergency number")}
            parts.append(text)
    if body.strip():
        parts.append(body.strip())
    return "\n\n".join(parts)
