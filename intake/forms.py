import re

from django import forms
from django.core.validators import EmailValidator
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from complaints.digits import ascii_digits
from complaints.models import Case, ServiceRating
from complaints.ratings import QUESTIONS
from complaints.services import MAX_TEXT_LENGTH, international_phone
from policies.categories import child_label

YES_NO = [("yes", _("Yes")), ("no", _("No"))]
# The values are Case.AboutStaff's: the answer is stored as given.
YES_NO_UNSURE = [
    (Case.AboutStaff.YES, _("Yes")),
    (Case.AboutStaff.NO, _("No")),
    (Case.AboutStaff.UNSURE, _("I am not sure")),
]


class ComplaintForm(forms.Form):
    filed_for = forms.ChoiceField(
        label=_("Who is this complaint about?"),
        choices=Case.FiledFor.choices,
        widget=forms.RadioSelect,
        initial=Case.FiledFor.SELF,
        # Not answered (an old page, a missed question): about the child writing.
        required=False,
    )
    narrative = forms.CharField(
        label=_("What happened?"),
        help_text=format_lazy(
            _(
                "Say what happened, when and where, in your own words. You do not have "
                "to give your name. Up to {max} characters."
            ),
            max=MAX_TEXT_LENGTH,
        ),
        # autocomplete="off": a browser must not keep the story to offer it, or put it
        # back after Exit and Back, on a shared phone.
        widget=forms.Textarea(attrs={"rows": 8, "autocomplete": "off"}),
        # No maxlength attribute: a browser would silently cut a long paste. The
        # server says so instead, and gives the text back.
        error_messages={"required": _("Please tell us what happened.")},
    )
    category = forms.ChoiceField(
        label=_("Which is closest to what happened?"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Please choose the closest answer. 'Something else' is fine.")
        },
    )
    in_danger = forms.ChoiceField(
        label=_("Are you in danger right now?"),
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please answer: are you in danger right now?")},
    )
    about_staff = forms.ChoiceField(
        label=_("Is this about someone who works there?"),
        choices=YES_NO_UNSURE,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Please answer yes, no or I am not sure."),
            "invalid_choice": _("Please answer yes, no or I am not sure."),
        },
    )
    contact_preference = forms.ChoiceField(
        label=_("How can we tell you what happens next?"),
        choices=Case.ContactPreference.choices,
        widget=forms.RadioSelect,
        initial=Case.ContactPreference.FOLLOW_UP_PAGE,
        error_messages={"required": _("Please choose how we can contact you.")},
    )
    contact_detail = forms.CharField(
        label=_("Your phone number or email"),
        help_text=_(
            "Only if you chose a text message, a call or an email. For a text, "
            "start with + and your country code. Only the complaints team sees it."
        ),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    submission_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, categories: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [(code, child_label(code)) for code in categories]

    def clean_filed_for(self):
        return self.cleaned_data.get("filed_for") or Case.FiledFor.SELF

    def clean(self):
        data = super().clean()
        preference = data.get("contact_preference")
        detail = (data.get("contact_detail") or "").strip()
        if preference in (Case.ContactPreference.SMS, Case.ContactPreference.PHONE):
            detail = ascii_digits(detail)  # ٧٧ from an Arabic keyboard is 77
        if preference == Case.ContactPreference.SMS:
            # A text needs the whole international number: we do not know the country.
            if international_phone(detail) is None:
                self.add_error(
                    "contact_detail",
                    _(
                        "Please write a phone number with + and the country code, "
                        "like +221 77 123 45 67."
                    ),
                )
            else:
                data["contact_detail"] = international_phone(detail)
        elif preference == Case.ContactPreference.PHONE:
            # A person dials it: a local number is fine too.
            digits = re.sub(r"[\s\-.()/]", "", detail).removeprefix("+")
            if not (digits.isdigit() and 6 <= len(digits) <= 20):
                self.add_error(
                    "contact_detail", _("Please write a phone number, like +221 77 123 45 67.")
                )
            else:
                data["contact_detail"] = detail
        elif preference == Case.ContactPreference.EMAIL:
            try:
                EmailValidator()(detail)
            except forms.ValidationError:
                self.add_error(
                    "contact_detail", _("Please write an email address, like name@example.org.")
                )
            else:
                data["contact_detail"] = detail
        return data


class FollowUpForm(forms.Form):
    reference = forms.CharField(
        label=_("Case reference"),
        help_text=_("8 letters and numbers, like K7QM-4TPX"),
        max_length=20,
        error_messages={"required": _("Please write your case reference.")},
    )
    code = forms.CharField(
        label=_("Secret code"),
        help_text=_("The 12 numbers you were given"),
        max_length=30,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"required": _("Please write your secret code.")},
    )
    # A message typed on the case page after the visit timed out, carried back in this
    # form until the code is entered again: never stored, never in a URL or the session.
    kept_message = forms.CharField(widget=forms.HiddenInput, required=False, strip=False)

    # An Arabic keyboard types ٤٥٦: the reference and code are checked in ASCII digits.
    def clean_reference(self):
        return ascii_digits(self.cleaned_data["reference"])

    def clean_code(self):
        return ascii_digits(self.cleaned_data["code"])


class FollowUpMessageForm(forms.Form):
    body = forms.CharField(
        label=_("Add something to your complaint"),
        help_text=format_lazy(
            _("Anything you want to add or ask. Up to {max} characters."), max=MAX_TEXT_LENGTH
        ),
        widget=forms.Textarea(attrs={"rows": 5, "autocomplete": "off"}),
        error_messages={"required": _("Please write your message first.")},
    )


def _rating_question(name: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=QUESTIONS[name],
        choices=ServiceRating.Answer.choices,
        coerce=int,
        empty_value=None,
        required=False,  # every question may be left
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Please choose Yes, Partly or No.")},
    )


class RatingForm(forms.Form):
    """ "How did we do?": three optional questions, once the child was told the outcome."""

    listened = _rating_question("listened")
    felt_safe = _rating_question("felt_safe")
    fast_enough = _rating_question("fast_enough")

    def clean(self):
        data = super().clean()
        if not self.errors and all(data.get(name) is None for name in QUESTIONS):
            raise forms.ValidationError(
                _("Please choose an answer to at least one question, or leave this part.")
            )
        return data


class ReviewForm(forms.Form):
    """ "Ask for a review": the reason is optional, and sealed like a complaint."""

    reason = forms.CharField(
        label=_("Why do you think the decision is wrong? (you do not have to say)"),
        help_text=format_lazy(
            _(
                "Only the office that reviews decisions reads this, not the people who "
                "decided. Up to {max} characters."
            ),
            max=MAX_TEXT_LENGTH,
        ),
        required=False,
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off"}),
        error_messages={
            "max_length": format_lazy(
                _("Please keep it under {max} characters."), max=MAX_TEXT_LENGTH
            )
        },
    )
