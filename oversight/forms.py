from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _


class PeriodForm(forms.Form):
    """The review's period. A range that cannot be read, or ends before it starts, is
    an error to correct: never silently the default period."""

    period = forms.ChoiceField(
        required=False, label=_("Period"),
        choices=[("30", _("Last 30 days")), ("90", _("Last 90 days")), ("365", _("Last 365 days")),
                 ("custom", _("Custom range"))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # "from" is a Python keyword: the fields are added by name.
        self.fields["from"] = forms.DateField(required=False, label=_("From"),
                                              widget=forms.DateInput(attrs={"type": "date"}))
        self.fields["to"] = forms.DateField(required=False, label=_("To"),
                                            widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("period") != "custom":
            return cleaned
        start, end = cleaned.get("from"), cleaned.get("to")
        for name, value in (("from", start), ("to", end)):
            if value is None and name not in self.errors:
                self.add_error(name, _("Give a date (year-month-day) for a custom range."))
        if start and end:
            if start > end:
                self.add_error("to", _("The end date is before the start date."))
            elif end >= date.max:
                self.add_error("to", _("Give an end date before the year 9999."))
        return cleaned

    def days(self) -> int:
        return int(self.cleaned_data.get("period") or 90)
