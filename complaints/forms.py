from django import forms
from django.utils.translation import gettext_lazy as _

from complaints.models import Case
from complaints.reply_templates import reply_template_choices
from complaints.selectors import QueueFilters
from complaints.services import REFERENCE_ALPHABET, normalise_reference
from policies.categories import category_data
from policies.models import Urgency


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("The 6-digit code your authenticator shows"),
        max_length=8,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class ReplyForm(forms.Form):
    """One box for the reply. A template is inserted into it (in the child's language)
    to be edited, never sent unseen; "Count" shows what the SMS will cost."""

    INSERT, PREVIEW, SEND = "insert", "preview", "send"

    template = forms.ChoiceField(
        label=_("Start from a template"),
        required=False,
        choices=reply_template_choices,
        help_text=_("Inserted in the child's language, for you to edit before sending."),
    )
    body = forms.CharField(
        label=_("Reply to the child"),
        help_text=_(
            "Plain words a child understands. Shown on the follow-up page, and sent by "
            "SMS to a child who wrote by SMS."
        ),
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
    )
    # One id per reply box shown: a second POST of the same reply (two tabs, Back and
    # Send again) finds its message already there and sends nothing twice.
    reply_id = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, action: str = SEND, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action

    def clean(self):
        data = super().clean()
        if self.action == self.SEND and data.get("template"):
            # A template chosen but not inserted yet is inserted, not sent unseen.
            self.action = self.INSERT
        if self.action == self.INSERT and not data.get("template"):
            self.add_error("template", _("Choose a template to insert."))
        elif self.action == self.SEND and not (data.get("body") or "").strip():
            self.add_error("body", _("Write a reply first, or insert a template to start from."))
        return data


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Internal note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only staff who can read this case see notes."),
    )


class AssignForm(forms.Form):
    assignee = forms.TypedChoiceField(label=_("Assign to"), coerce=int)

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = choices


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(label=_("Move the case to"))
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=200,
        help_text=_(
            "Required for a decision or closing. Metadata only: no names, no details of what "
            "happened."
        ),
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = choices


class ReferForm(forms.Form):
    to_unit = forms.ModelChoiceField(
        queryset=None, required=False, label=_("Refer to a unit"), empty_label=_("(not a unit)")
    )
    partner = forms.ChoiceField(required=False, label=_("or to a partner service"))
    consent = forms.BooleanField(label=_("The child agreed to this referral"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=120, required=False)

    def __init__(self, *args, units, partners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_unit"].queryset = units
        self.fields["partner"].choices = [("", _("(not a partner)"))] + [(p, p) for p in partners]


class AboutWhomForm(forms.Form):
    """Whom on the unit's roster the complaint is about. Nothing is chosen for the focal
    point: "nobody / not known" is an answer of its own. Used with prefix="about", so its
    element ids do not clash with the other forms of the case page."""

    NOBODY = "nobody"

    staff_member = forms.ChoiceField(
        label=_("The complaint is about"),
        error_messages={
            "required": _("Choose a person from the roster, or “Nobody, or not known”."),
            "invalid_choice": _("Choose a person from the roster, or “Nobody, or not known”."),
        },
    )

    def __init__(self, *args, roster, **kwargs):
        kwargs.setdefault("prefix", "about")
        super().__init__(*args, **kwargs)
        self.roster = {str(m.pk): m for m in roster}
        self.fields["staff_member"].choices = [
            ("", _("Choose…")),
            (self.NOBODY, _("Nobody on the roster, or not known")),
            *(
                (pk, f"{m.name} · {m.role_title}" if m.role_title else m.name)
                for pk, m in self.roster.items()
            ),
        ]

    def chosen(self):
        """The StaffMember chosen, or None for "nobody / not known"."""
        return self.roster.get(self.cleaned_data["staff_member"])


def _category_choices():
    return [("", _("Any category"))] + [
        (c["code"], c["formal"]) for c in category_data()["categories"]
    ]


class QueueFilterForm(forms.Form):
    """The queue's filters, read from the query string: metadata only."""

    scope = forms.ChoiceField(
        label=_("Cases"),
        required=False,
        choices=[
            (QueueFilters.READABLE, _("All I may read")),
            (QueueFilters.UNITS, _("My units' cases")),
            (QueueFilters.MINE, _("Assigned to me")),
        ],
        help_text=_("“All” adds other units' cases escalated to your oversight unit."),
        widget=forms.Select(attrs={"aria-describedby": "id_scope_hint"}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("Not closed yet")),
            (QueueFilters.ALL, _("All, closed too")),
            *Case.Status.choices,
        ],
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"), required=False, choices=[("", _("Any urgency")), *Urgency.choices]
    )
    category = forms.ChoiceField(label=_("Category"), required=False, choices=_category_choices)
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("Any channel")), *Case.Channel.choices]
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    new_messages = forms.BooleanField(label=_("New messages from the child only"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            (QueueFilters.BY_DEADLINE, _("Most urgent, then next deadline")),
            (QueueFilters.BY_RECEIVED, _("Received, newest first")),
        ],
    )
    reference = forms.CharField(
        label=_("Find a case by reference"),
        required=False,
        max_length=20,
        help_text=_("With or without the dash, e.g. K7QM-4TPX."),
    )

    def clean_reference(self):
        reference = normalise_reference(self.cleaned_data["reference"])
        if any(ch not in REFERENCE_ALPHABET for ch in reference):
            raise forms.ValidationError(
                _(
                    "No case has this reference: references use only the letters %(letters)s and "
                    "the digits %(digits)s. Check it with the child."
                )
                % {
                    "letters": "".join(c for c in REFERENCE_ALPHABET if c.isalpha()),
                    "digits": "".join(c for c in REFERENCE_ALPHABET if c.isdigit()),
                }
            )
        return reference

    def filters(self) -> QueueFilters:
        """The valid filters; a value that did not validate is left out (and shown as an
        error), not a reason to show nothing."""
        self.is_valid()
        chosen = {name: value for name, value in self.cleaned_data.items() if value}
        if "reference" in self.errors:
            # A reference no case can have finds nothing, rather than the whole queue.
            chosen["reference"] = normalise_reference(self.data.get("reference", ""))
        return QueueFilters(**chosen)


class LegalHoldForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the legal hold"),
        max_length=300,
        help_text=_(
            "Why the case must be kept (a court order, a request from a lawyer). Staff "
            "words only, never what the child said."
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Write why the case must be kept."))
        return reason
