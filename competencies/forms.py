from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from competencies.models import Competency, Facet, Rating, StaffMember, TrainingLevel
from competencies.services import Breach, sector_competencies


class StaffMemberForm(forms.ModelForm):
    class Meta:
        model = StaffMember
        fields = ["name", "role_title", "in_service_since", "is_active"]
        labels = {
            "name": _("Name"),
            "role_title": _("Role"),
            "in_service_since": _("In service since"),
            "is_active": _("Active"),
        }
        widgets = {"in_service_since": forms.DateInput(attrs={"type": "date"})}


class EvaluationForm(forms.Form):
    """One rating per facet the retraining covered. Nothing is preselected: a rating
    the manager did not choose would be recorded as if they had."""

    def __init__(self, *args, facets, **kwargs):
        super().__init__(*args, **kwargs)
        for facet in facets:
            self.fields[facet] = forms.ChoiceField(
                label=Facet(facet).label,
                choices=Rating.choices,
                widget=forms.RadioSelect,
                error_messages={
                    "required": _("Choose a rating for %(facet)s.")
                    % {"facet": Facet(facet).label.lower()}
                },
            )


class SubstantiateForm(forms.Form):
    staff_member = forms.ModelChoiceField(
        queryset=StaffMember.objects.none(), label=_("Substantiated against")
    )
    training_level = forms.ChoiceField(
        required=False,
        label=_("Training level"),
        choices=[("", _("From the person's situation")), *TrainingLevel.choices],
    )
    reason = forms.CharField(
        max_length=150,
        label=_("Reason"),
        help_text=_("Metadata only: no names, no details of what happened."),
    )

    def __init__(self, *args, unit, competencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff_member"].queryset = StaffMember.objects.filter(unit=unit, is_active=True)
        # Name and role: StaffMember.__str__ reads the unit, one query per person.
        self.fields["staff_member"].label_from_instance = lambda m: (
            f"{m.name} · {m.role_title}" if m.role_title else m.name
        )
        self.competencies = list(competencies)
        for competency in self.competencies:
            self.fields[f"breach_{competency.pk}"] = forms.MultipleChoiceField(
                label=str(competency),
                required=False,
                choices=Facet.choices,
                widget=forms.CheckboxSelectMultiple,
            )

    def breach_fields(self):
        return [self[f"breach_{c.pk}"] for c in self.competencies]

    def breaches(self):
        return [
            Breach(competency=c, facets=tuple(self.cleaned_data[f"breach_{c.pk}"]))
            for c in self.competencies
            if self.cleaned_data.get(f"breach_{c.pk}")
        ]


def substantiate_form(case, data=None) -> SubstantiateForm:
    """The substantiation form of a case page, for the case's unit and sector."""
    # Prefixed: its element ids must not clash with the other forms of the case page.
    return SubstantiateForm(
        data=data,
        unit=case.unit,
        competencies=sector_competencies(case.unit),
        initial={"staff_member": case.about_staff_member_id},
        prefix="substantiate",
    )


class _NotInTheFuture:
    def _past(self, name: str):
        value = self.cleaned_data.get(name)
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("This date is in the future."))
        return value


class TrainingRecordForm(_NotInTheFuture, forms.Form):
    competency = forms.ModelChoiceField(queryset=Competency.objects.none(), label=_("Competency"))
    level = forms.ChoiceField(choices=TrainingLevel.choices, label=_("Level"))
    completed_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    provider = forms.CharField(max_length=200, label=_("Provider or course"))
    evidence = forms.CharField(
        max_length=500,
        required=False,
        label=_("Evidence"),
        help_text=_("A certificate number, an attendance list: never a child or a case."),
    )

    def __init__(self, *args, unit, **kwargs):
        super().__init__(*args, prefix="training", **kwargs)
        self.fields["competency"].queryset = sector_competencies(unit)

    def clean_completed_on(self):
        return self._past("completed_on")


class CompetencyEvaluationForm(_NotInTheFuture, forms.Form):
    """One facet of one competency, rated. "Below expectations" plans training: the
    level chosen here, or the one proposed from the person's time in service."""

    competency = forms.ModelChoiceField(queryset=Competency.objects.none(), label=_("Competency"))
    facet = forms.ChoiceField(choices=Facet.choices, label=_("Facet"))
    rating = forms.ChoiceField(choices=Rating.choices, label=_("Rating"))
    evaluated_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    evaluator = forms.CharField(max_length=200, label=_("Evaluator"))
    level = forms.ChoiceField(
        required=False,
        label=_("Training to plan if below expectations"),
        choices=[("", _("Proposed from the person's time in service")), *TrainingLevel.choices],
    )

    def __init__(self, *args, unit, **kwargs):
        super().__init__(*args, prefix="evaluation", **kwargs)
        self.fields["competency"].queryset = sector_competencies(unit)

    def clean_evaluated_on(self):
        return self._past("evaluated_on")


class RegisterUploadForm(forms.Form):
    register = forms.FileField(label=_("Training register (CSV)"))
