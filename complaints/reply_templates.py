"""Short replies a focal point can start from; each is sent in the child's language,
and free text can follow it."""

from django.utils import translation
from django.utils.translation import gettext_lazy as _

REPLY_TEMPLATES = {
    "thanks": ("Thank you, we are looking into it",
               _("Thank you for telling us. We are looking into it.")),
    "more": ("Ask for more details",
             _("Can you tell us more about when and where it happened?")),
    "safe": ("Check the child is safe",
             _("Are you safe now? If you are in danger, call the child helpline on 116.")),
    "meet": ("Offer to talk in person",
             _("Would you like to talk to someone from our team in person? Tell us when suits you.")),
}


def reply_template_choices() -> list[tuple[str, str]]:
    return [("", "No template: my own words"), *((k, label) for k, (label, _t) in REPLY_TEMPLATES.items())]


def compose_reply(*, template: str, body: str, language: str) -> str:
    parts = []
    if template in REPLY_TEMPLATES:
        with translation.override(language):
            parts.append(str(REPLY_TEMPLATES[template][1]))
    if body.strip():
        parts.append(body.strip())
    return "\n\n".join(parts)
