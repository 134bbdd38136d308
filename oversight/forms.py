from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _


class PeriodForm(forms.Form):
    """The review's period. A range that cannot be read, or ends before it starts, is
    an error to correct: never silently the default period."""

    period = forms.ChoiceField(
        required=False,
        label=_("Period"),
        choices=[
            ("30", _("Last 30 days")),
            ("90", _("Last 90 days")),
            ("365", _("Last 365 days")),
            ("custom", _("Custom range")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # "from" is a Python keyword: the fields are added by name.
        self.fields["from"] = forms.DateField(
            required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
        )
        self.fields["to"] = forms.DateField(
            required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
        )

    def clean(self):
        cleaned = super().clean()
        if "period" in self.errors:
            return cleaned
        period = cleaned.get("period")
        dates_given = any((self.data.get(name) or "").strip() for name in ("from", "to"))
        if dates_given and period and period != "custom":
            # "Last 90 days" is ticked by default, so typed dates come with it; dates left
            # from a custom range come with whichever period was ticked after. Which one
            # was meant cannot be told apart: ask, rather than show the wrong figures.
            choices = dict(self.fields["period"].choices)
            self.add_error(
                "period",
                _(
                    "You gave dates but chose “%(period)s”. To see those dates, choose “Custom "
                    "range”; to see “%(period)s”, clear the dates."
                )
                % {"period": choices[period]},
            )
            return cleaned
        if dates_given:
            cleaned["period"] = period = "custom"  # dates and no period: nothing else meant
        if period != "custom":
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

    def selected(self) -> str:
        """The period to show ticked: the one the figures are for or, when the form
        needs correcting, the one asked for."""
        cleaned = getattr(self, "cleaned_data", {})
        return cleaned.get("period") or self.data.get("period") or "90"

    def days(self) -> int:
        return int(self.cleaned_data.get("period") or 90)
