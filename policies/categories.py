"""Complaint categories in a child's words.

Codes and default urgencies are seeded from data/complaint_categories.json; the child
labels and the formal labels staff read are repeated here so Django's i18n can
translate them (tests/policies/test_category_labels.py keeps them in step).
"""

import json
from functools import lru_cache
from pathlib import Path

from django.utils.translation import gettext_lazy as _

DATA_FILE = Path(__file__).parent / "data" / "complaint_categories.json"

CHILD_LABELS = {
    "sexual_abuse": _("Someone touched me or made me do sexual things"),
    "physical_violence": _("Someone hurt my body"),
    "ill_treatment": _("They hurt or scared me to make me talk, or to punish me"),
    "reprisal": _("I was punished or threatened for complaining"),
    "detention_conditions": _("I was locked up alone, with adults, or unfairly"),
    "neglect": _("I did not get food, medicine or care"),
    "emotional_abuse": _("They shouted at me, insulted me or made me feel ashamed"),
    "online_harm": _("Someone hurt me online or shared pictures of me"),
    "rights_denied": _("They did not let me call my family or a lawyer, or tell me my rights"),
    "not_heard": _("They did not listen to me"),
    "discrimination": _("They treated me badly because of who I am"),
    "privacy": _("They shared my private information"),
    "exploitation": _("Someone asked me for money, favours or work"),
    "service_failure": _("Help was too slow or nobody helped me"),
    "other": _("Something else, or I am not sure"),
}

# What staff read: the formal name of each category.
FORMAL_LABELS = {
    "sexual_abuse": _("Sexual abuse, exploitation or harassment by staff"),
    "physical_violence": _("Physical violence, excessive force, restraint or corporal punishment"),
    "ill_treatment": _("Torture or cruel, inhuman or degrading treatment; coerced confession"),
    "reprisal": _("Reprisal or retaliation"),
    "detention_conditions": _(
        "Unlawful or arbitrary detention, isolation, not separated from adults"
    ),
    "neglect": _("Neglect or negligent treatment"),
    "emotional_abuse": _("Mental or emotional violence"),
    "online_harm": _("Technology-facilitated violence, including sharing of images"),
    "rights_denied": _("Denial of procedural rights or family contact"),
    "not_heard": _("Right to be heard disregarded"),
    "discrimination": _("Discrimination"),
    "privacy": _("Breach of privacy or confidentiality"),
    "exploitation": _("Exploitation or abuse of power"),
    "service_failure": _("Service failure or delay"),
    "other": _("Other or unspecified (goes to triage)"),
}


@lru_cache(maxsize=1)
def category_data() -> dict:
    return json.loads(DATA_FILE.read_text())


def policy_category_codes(categories: dict) -> list[str]:
    """A policy's categories in the canonical order of the data file (then any the
    policy added, alphabetically). JSON object order is not kept by PostgreSQL."""
    canonical = [c["code"] for c in category_data()["categories"]]
    known = [code for code in canonical if code in categories]
    return known + sorted(code for code in categories if code not in canonical)


def default_category_urgencies() -> dict[str, str]:
    return {c["code"]: c["urgency"] for c in category_data()["categories"]}


def formal_label(code: str) -> str:
    return FORMAL_LABELS.get(code, code)


def child_label(code: str) -> str:
    return CHILD_LABELS.get(code, code)


# Shorter still, for a numbered SMS menu that must fit two segments.
SMS_LABELS = {
    "sexual_abuse": _("Sexual abuse"),
    "physical_violence": _("Hit or hurt"),
    "ill_treatment": _("Threats or torture"),
    "reprisal": _("Punished for complaining"),
    "detention_conditions": _("Locked up"),
    "neglect": _("No food or care"),
    "emotional_abuse": _("Insults"),
    "online_harm": _("Online harm"),
    "rights_denied": _("Rights denied"),
    "not_heard": _("Not listened to"),
    "discrimination": _("Discrimination"),
    "privacy": _("Privacy"),
    "exploitation": _("Money or favours"),
    "service_failure": _("Too slow"),
    "other": _("Other"),
}


def sms_label(code: str) -> str:
    return SMS_LABELS.get(code, code)
