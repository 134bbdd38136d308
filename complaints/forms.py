from django import forms
from django.utils.translation import gettext_lazy as _

from complaints.reply_templates import reply_template_choices


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("The 6-digit code your authenticator shows"),
        max_length=8,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class ReplyForm(forms.Form):
    template = forms.ChoiceField(
        label="Start from", required=False, choices=reply_template_choices,
        help_text="Sent in the child's language.",
    )
    body = forms.CharField(
        label="Reply to the child",
        help_text="Plain words a child understands. Shown on the follow-up page, and sent by SMS "
        "to a child who wrote by SMS.",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )

    def clean(self):
        data = super().clean()
        if not data.get("template") and not (data.get("body") or "").strip():
            raise forms.ValidationError("Choose a template or write a reply.")
        return data


class NoteForm(forms.Form):
    body = forms.CharField(label="Internal note", widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="Only staff who can read this case see notes.")


class AssignForm(forms.Form):
    assignee = forms.TypedChoiceField(label="Assign to", coerce=int)

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = choices


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(label="Move the case to")
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=200,
        help_text="Required for a decision or closing. Metadata only: no names, no details of what happened.",
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = choices


class ReferForm(forms.Form):
    to_unit = forms.ModelChoiceField(queryset=None, required=False, label="Refer to a unit",
                                     empty_label="(not a unit)")
    partner = forms.ChoiceField(required=False, label="or to a partner service")
    consent = forms.BooleanField(label="The child agreed to this referral", required=False)
    reason = forms.CharField(label="Reason", max_length=120, required=False)

    def __init__(self, *args, units, partners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_unit"].queryset = units
        self.fields["partner"].choices = [("", "(not a partner)")] + [(p, p) for p in partners]


class AboutWhomForm(forms.Form):
    """Whom on the unit's roster the complaint is about. Nothing is chosen for the focal
    point: "nobody / not known" is an answer of its own. Used with prefix="about", so its
    element ids do not clash with the other forms of the case page."""

    NOBODY = "nobody"

    staff_member = forms.ChoiceField(
        label=_("The complaint is about"),
        error_messages={"required": _("Choose a person from the roster, or “Nobody, or not known”."),
                        "invalid_choice": _("Choose a person from the roster, or “Nobody, or not "
                                            "known”.")},
    )

    def __init__(self, *args, roster, **kwargs):
        kwargs.setdefault("prefix", "about")
        super().__init__(*args, **kwargs)
        self.roster = {str(m.pk): m for m in roster}
        self.fields["staff_member"].choices = [
            ("", _("Choose…")),
            (self.NOBODY, _("Nobody on the roster, or not known")),
            *((pk, f"{m.name} · {m.role_title}" if m.role_title else m.name)
              for pk, m in self.roster.items()),
        ]

    def chosen(self):
        """The StaffMember chosen, or None for "nobody / not known"."""
        return self.roster.get(self.cleaned_data["staff_member"])
