import re

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from policies.categories import category_data, formal_label, policy_category_codes
from policies.models import (
    CONFIDENTIALITY_LIMITS,
    DEADLINE_STEPS,
    ChildProtectionPolicy,
    Unit,
    Urgency,
)
from policies.selectors import policy_emergency_contacts

PARTNER_KINDS = ("health", "psychosocial", "legal_aid", "other")
# The deadline steps (DEADLINE_STEPS), as the policy page's columns name them.
STEP_LABELS = {"acknowledge": _("Acknowledge"), "assess": _("Assess"), "resolve": _("Resolve")}


class PolicyDraftForm(forms.Form):
    """A draft policy version: categories and their urgency, deadlines in hours per
    urgency and step, assignment, escalation and periods."""

    # The model's labels stay English: routing stores them in a case's history
    # (policies.routing); the manager reads them in their language here.
    assignment_rule = forms.ChoiceField(
        label=_("Assignment rule"),
        choices=[
            (ChildProtectionPolicy.AssignmentRule.LEAST_LOADED, _("Least loaded focal point")),
            (ChildProtectionPolicy.AssignmentRule.ROUND_ROBIN, _("Round robin")),
        ],
    )
    oversight_unit = forms.ModelChoiceField(
        queryset=Unit.objects.filter(sector=Unit.Sector.OVERSIGHT, is_active=True),
        required=False,
        label=_("Oversight unit"),
        help_text=_(
            "Last step of the escalation chain; receives complaints about the manager "
            "or all focal points."
        ),
    )
    about_staff_yes_rule = forms.ChoiceField(
        choices=ChildProtectionPolicy.AboutStaffRule.choices,
        label=_("When the child says “yes”"),
    )
    about_staff_unsure_rule = forms.ChoiceField(
        choices=ChildProtectionPolicy.AboutStaffRule.choices,
        label=_("When the child says “I am not sure”"),
    )
    retention_days = forms.IntegerField(
        min_value=30, max_value=36500, label=_("Keep closed cases for (days)")
    )
    sms_reporter_retention_days = forms.IntegerField(
        min_value=30,
        max_value=36500,
        required=False,
        label=_("Keep an SMS child's phone number for (days)"),
        help_text=_(
            "Counted from the last text or closed case, once no case of theirs is open. "
            "Left empty: unchanged."
        ),
    )
    retraining_due_days = forms.IntegerField(
        min_value=1, max_value=3650, label=_("Retraining due within (days)")
    )
    outcome_wait_days = forms.IntegerField(
        min_value=1, max_value=365, label=_("Wait for a no-contact child to come back (days)")
    )
    # At least a week: a child may need time, and help, to decide to ask. Never 0: the
    # unit a child complained about cannot switch off the review above it.
    review_window_days = forms.IntegerField(
        min_value=7,
        max_value=365,
        label=_("A child may ask for a review within (days)"),
        widget=forms.NumberInput(attrs={"aria-describedby": "review-window-hint"}),
        help_text=_(
            "Counted from the day the child was told the outcome, 7 to 365 days. The review "
            "goes to the oversight unit: with none named, children cannot ask for one."
        ),
        error_messages={
            "min_value": _("Give children at least 7 days to ask for a review."),
            "max_value": _("Give at most 365 days."),
            "invalid": _("Write a number of days, like 30."),
        },
    )
    emergency_contacts = forms.CharField(
        label=_("Emergency numbers"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One number per line: label | number. Children see these first, before "
            "anything is filed, and whenever they say they are in danger."
        ),
    )
    confidentiality_limits = forms.MultipleChoiceField(
        choices=list(CONFIDENTIALITY_LIMITS.items()),
        required=False,
        label=_("Limits of confidentiality"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "When staff must tell someone else what a child said, to keep a child safe. "
            "Children are told this before they write."
        ),
    )
    referral_partners = forms.CharField(
        required=False,
        label=_("Referral partners"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "One service per line: name | kind (health, psychosocial, legal_aid, other) | contact"
        ),
    )

    def __init__(self, *args, policy: ChildProtectionPolicy, **kwargs):
        initial = {
            "assignment_rule": policy.assignment_rule,
            "oversight_unit": policy.oversight_unit_id,
            "about_staff_yes_rule": policy.about_staff_yes_rule,
            "about_staff_unsure_rule": policy.about_staff_unsure_rule,
            "retention_days": policy.retention_days,
            "sms_reporter_retention_days": policy.sms_reporter_retention_days,
            "retraining_due_days": policy.retraining_due_days,
            "outcome_wait_days": policy.outcome_wait_days,
            "review_window_days": policy.review_window_days,
            "emergency_contacts": "\n".join(
                f"{c['label']} | {c['number']}" for c in policy_emergency_contacts(policy)
            ),
            "confidentiality_limits": policy.confidentiality_limits,
            "referral_partners": "\n".join(
                " | ".join(p.get(k, "") for k in ("name", "kind", "contact"))
                for p in policy.referral_partners
            ),
        }
        codes = policy_category_codes(policy.categories)
        codes += [c["code"] for c in category_data()["categories"] if c["code"] not in codes]
        self.category_codes = codes
        for code in codes:
            initial[f"cat_{code}"] = policy.categories.get(code, "")
        for urgency in Urgency.values:
            for step in DEADLINE_STEPS:
                initial[f"dl_{urgency}_{step}"] = policy.deadline_hours(urgency, step)
        super().__init__(*args, initial=initial, **kwargs)
        for code in codes:
            self.fields[f"cat_{code}"] = forms.ChoiceField(
                label=formal_label(code),
                required=False,
                choices=[("", _("Not handled")), *Urgency.choices],
            )
        for urgency in Urgency.values:
            for step in DEADLINE_STEPS:
                self.fields[f"dl_{urgency}_{step}"] = forms.IntegerField(
                    label=_("%(urgency)s · %(step)s (hours)")
                    % {
                        "urgency": str(Urgency(urgency).label).lower(),
                        "step": str(STEP_LABELS.get(step, step)).lower(),
                    },
                    required=False,
                    min_value=1,
                    max_value=24 * 365,
                )

    def clean_referral_partners(self):
        partners = []
        for line in self.cleaned_data["referral_partners"].splitlines():
            parts = [part.strip() for part in line.split("|")]
            if not parts[0]:
                continue
            parts += [""] * (3 - len(parts))
            kind = parts[1] or "other"
            if kind not in PARTNER_KINDS:
                raise forms.ValidationError(
                    _("Unknown kind %(kind)r: use one of %(kinds)s.")
                    % {"kind": kind, "kinds": ", ".join(PARTNER_KINDS)}
                )
            partners.append({"name": parts[0][:120], "kind": kind, "contact": parts[2][:200]})
        return partners

    def clean_emergency_contacts(self):
        contacts = []
        for line in self.cleaned_data["emergency_contacts"].splitlines():
            if not line.strip():
                continue
            label, _bar, number = line.rpartition("|")
            number = number.strip()
            if not re.fullmatch(r"\+?[0-9][0-9 ]{1,19}", number):
                raise forms.ValidationError(
                    _("%(number)r is not a phone number: write one per line, label | number.")
                    % {"number": number}
                )
            contacts.append({"label": label.strip()[:120], "number": number})
        if not contacts:
            raise forms.ValidationError(_("Give at least one emergency number."))
        return contacts

    def about_staff_fields(self):
        return [self["about_staff_yes_rule"], self["about_staff_unsure_rule"]]

    def category_fields(self):
        return [self[f"cat_{code}"] for code in self.category_codes]

    def deadline_rows(self):
        return [
            (
                str(Urgency(urgency).label).lower(),
                [self[f"dl_{urgency}_{step}"] for step in DEADLINE_STEPS],
            )
            for urgency in Urgency.values
        ]

    def apply_to(self, policy: ChildProtectionPolicy) -> None:
        data = self.cleaned_data
        policy.categories = {
            code: data[f"cat_{code}"] for code in self.category_codes if data[f"cat_{code}"]
        }
        policy.deadlines = {
            urgency: {
                step: data[f"dl_{urgency}_{step}"]
                for step in DEADLINE_STEPS
                if data[f"dl_{urgency}_{step}"]
            }
            for urgency in Urgency.values
        }
        for name in (
            "assignment_rule",
            "oversight_unit",
            "about_staff_yes_rule",
            "about_staff_unsure_rule",
            "retention_days",
            "retraining_due_days",
            "outcome_wait_days",
            "review_window_days",
            "referral_partners",
            "emergency_contacts",
            "confidentiality_limits",
        ):
            setattr(policy, name, data[name])
        if data.get("sms_reporter_retention_days"):
            policy.sms_reporter_retention_days = data["sms_reporter_retention_days"]


class StaffLanguageForm(forms.Form):
    """The language of a person's staff pages, notices and email ("": their unit's).
    The staff header renders the same choice (templates/base_staff.html)."""

    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=lambda: [("", _("My unit's language")), *settings.LANGUAGES],
    )
