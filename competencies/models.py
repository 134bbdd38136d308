from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffMember(models.Model):
    """A person on a unit's roster: who a complaint can be about. Needs no login; when
    the person also has an account (a focal point, a manager), `user` links it, which
    is how a conflict of interest is found."""

    unit = models.ForeignKey("policies.Unit", on_delete=models.PROTECT, related_name="roster")
    name = models.CharField(max_length=200)
    role_title = models.CharField(max_length=120, blank=True)
    in_service_since = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["unit", "name"]
        constraints = [
            # One account, one person: an account linked to two entries would be kept
            # away from cases about someone else (competencies.services.staff_member_link).
            models.UniqueConstraint(
                fields=["unit", "user"],
                condition=models.Q(user__isnull=False),
                name="staffmember_one_entry_per_account",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.unit.code})"


class Facet(models.TextChoices):
    KNOWLEDGE = "knowledge", _("Knowledge")
    SKILLS = "skills", _("Skills")
    ATTRIBUTES = "attributes", _("Attributes")


class TrainingLevel(models.TextChoices):
    BASIC = "basic", _("Basic training (new hires)")
    SPECIALISED = "specialised", _("Specialised course")
    PROFESSIONAL_DEVELOPMENT = "professional_development", _("Professional development")


class Rating(models.TextChoices):
    SATISFACTORY = "satisfactory", _("Satisfactory")
    MEETS_EXPECTATIONS = "meets_expectations", _("Meets expectations")
    BELOW_EXPECTATIONS = "below_expectations", _("Below expectations")


class CompetencyFramework(models.Model):
    """A sector's core competencies (IBCR), adaptable per deployment."""

    sector = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    adopted = models.PositiveSmallIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class Competency(models.Model):
    """Renamed or retired in place; assignments keep the title they were made under."""

    framework = models.ForeignKey(
        CompetencyFramework, on_delete=models.PROTECT, related_name="competencies"
    )
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=300)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["framework", "number"]
        verbose_name_plural = "competencies"
        constraints = [
            models.UniqueConstraint(fields=["framework", "number"], name="competency_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"


class RetrainingAssignment(models.Model):
    """Retraining of one staff member on one breached competency. It names the case by
    reference only: no child's words, no contact detail, ever."""

    class Status(models.TextChoices):
        ASSIGNED = "assigned", "Assigned"
        COMPLETED = "completed", "Completed"

    staff_member = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="retraining"
    )
    competency = models.ForeignKey(Competency, on_delete=models.PROTECT, related_name="+")
    competency_title = models.CharField(max_length=300)
    facets = models.JSONField(default=list)
    training_level = models.CharField(max_length=32, choices=TrainingLevel.choices)
    due_date = models.DateField()
    case_reference = models.CharField(max_length=8, blank=True)
    follow_up_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="follow_ups"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ASSIGNED)
    # {"knowledge": "meets_expectations", ...} for the facets trained.
    evaluation = models.JSONField(default=dict, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["status", "due_date"])]

    def facet_labels(self) -> list[str]:
        return [str(Facet(f).label) if f in Facet.values else f for f in self.facets]

    def evaluation_in_words(self) -> list[tuple[str, str]]:
        """[("Skills", "below expectations"), ...]: what the manager chose, as words, in
        the facets' own order (PostgreSQL's jsonb does not keep the keys' order)."""
        order = {facet: i for i, facet in enumerate(Facet.values)}
        return [
            (
                str(Facet(f).label) if f in Facet.values else f,
                str(Rating(r).label).lower() if r in Rating.values else r,
            )
            for f, r in sorted(
                self.evaluation.items(), key=lambda item: order.get(item[0], len(order))
            )
        ]


class TrainingRecord(models.Model):
    """Training one roster member took on one competency, at one level: entered by a
    manager or imported from the unit's training register. It names staff, never a
    child or a case."""

    class Source(models.TextChoices):
        ENTERED = "entered", _("Entered by a manager")
        IMPORTED = "imported", _("Imported from the training register")

    staff_member = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="trainings"
    )
    competency = models.ForeignKey(Competency, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=32, choices=TrainingLevel.choices)
    completed_on = models.DateField()
    provider = models.CharField(max_length=200)  # the provider, or the course's name
    evidence = models.CharField(max_length=500, blank=True)  # a certificate number, say
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.ENTERED)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-completed_on", "id"]
        constraints = [
            # Importing the same register twice records each training once.
            models.UniqueConstraint(
                fields=["staff_member", "competency", "level", "completed_on"],
                name="training_record_once",
            ),
        ]
        indexes = [models.Index(fields=["competency", "level"])]


class Evaluation(models.Model):
    """One facet of one competency, rated for one roster member on one day. "Below
    expectations" proposes the training level to plan (proposed_level)."""

    staff_member = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="evaluations"
    )
    competency = models.ForeignKey(Competency, on_delete=models.PROTECT, related_name="+")
    facet = models.CharField(max_length=16, choices=Facet.choices)
    rating = models.CharField(max_length=24, choices=Rating.choices)
    evaluated_on = models.DateField()
    evaluator = models.CharField(max_length=200)  # who rated: may have no account here
    proposed_level = models.CharField(max_length=32, choices=TrainingLevel.choices, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-evaluated_on", "id"]
        indexes = [models.Index(fields=["staff_member", "competency", "facet", "evaluated_on"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating="below_expectations") | models.Q(proposed_level=""),
                name="evaluation_level_only_when_below",
            ),
        ]
