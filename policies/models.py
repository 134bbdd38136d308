import re
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from config.languages import language_choices


def validate_language_codes(value) -> None:
    known = {code for code, _name in settings.LANGUAGES}
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise ValidationError('A list of language codes, e.g. ["fr", "wo"].')
    unknown = sorted(set(value) - known)
    if unknown:
        raise ValidationError(f"Not a language this service offers: {', '.join(unknown)}.")


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a time zone name (e.g. Africa/Dakar).")


def validate_e164(value: str) -> None:
    if not re.fullmatch(r"\+[1-9][0-9]{6,14}", value):
        raise ValidationError(f"{value!r} is not an E.164 number (e.g. +221770000000).")


class Urgency(models.TextChoices):
    EMERGENCY = "emergency", _("Emergency")
    URGENT = "urgent", _("Urgent")
    STANDARD = "standard", _("Standard")


# Lower sorts first in a triage queue.
URGENCY_RANK = {Urgency.EMERGENCY: 0, Urgency.URGENT: 1, Urgency.STANDARD: 2}

DEADLINE_STEPS = ("acknowledge", "assess", "resolve")

# When a unit's staff must share what a child told them (the limits of confidentiality),
# in staff words; intake/wording.py says each in a child's words.
CONFIDENTIALITY_LIMITS = {
    "serious_harm": _("A child or someone else is at serious risk of harm"),
    "crime_by_staff": _("The law requires reporting a crime by a member of staff"),
    "court_order": _("A court orders it"),
}


def default_confidentiality_limits() -> list[str]:
    return ["serious_harm"]


class Unit(models.Model):
    """A child protection service unit: a police unit, a social services office, a
    court, a detention centre, or an oversight body."""

    class Sector(models.TextChoices):
        SECURITY = "security", _("Security forces")
        SOCIAL_SERVICES = "social_services", _("Social services")
        JUSTICE = "justice", _("Justice")
        DEPRIVATION_OF_LIBERTY = "deprivation_of_liberty", _("Deprivation of liberty")
        OVERSIGHT = "oversight", _("Oversight body")

    code = models.CharField(
        max_length=16,
        unique=True,
        help_text="Short code: the unit's link /u/<code>/ and its SMS keyword.",
    )
    name = models.CharField(max_length=200)
    sector = models.CharField(max_length=32, choices=Sector.choices)
    default_language = models.CharField(max_length=8, choices=language_choices, default="en")
    # The languages its reporter pages and SMS language menu offer; empty: all of them.
    languages = models.JSONField(
        default=list,
        # In the database too: processes still running the code before this field (a
        # rolling upgrade) can still write units.
        db_default=[],
        blank=True,
        validators=[validate_language_codes],
        help_text="Codes of the languages offered to children (e.g. fr, wo); empty: all.",
    )
    # Where the unit is: every date and time a child or its staff read is in this zone.
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="IANA name, e.g. Africa/Dakar, America/Guatemala.",
    )
    is_active = models.BooleanField(default=True)
    # The unit's own WhatsApp sender on Twilio, if it has one: on its poster (link and
    # QR code) and the sender of its texts to WhatsApp children who have not written
    # to another of the service's addresses (settings.TWILIO_WHATSAPP_FROM otherwise).
    whatsapp_number = models.CharField(
        max_length=20,
        blank=True,
        db_default="",  # rows written by code that predates it (migration tests, old nodes)
        validators=[validate_e164],
        help_text="E.164 number of the unit's WhatsApp sender, e.g. +221770000000. Optional.",
    )
    # Public half of the unit's offline recovery key; the private half was shown once,
    # to be printed and kept in a safe (manage.py recovery_key_create).
    recovery_public_key = models.BinaryField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs):
        self.code = self.code.strip().upper()
        super().save(*args, **kwargs)

    def offered_languages(self) -> list[tuple[str, str]]:
        """(code, name) of the languages children may choose here, in LANGUAGES order.
        A code no longer in LANGUAGES (its file was removed) is passed over."""
        chosen = set(self.languages or [])
        return [(code, name) for code, name in settings.LANGUAGES if not chosen or code in chosen]


class ChildProtectionPolicy(models.Model):
    """One version of a unit's child protection policy. A published version is never
    edited; every case records the version it was routed under."""

    class AssignmentRule(models.TextChoices):
        LEAST_LOADED = "least_loaded", "Least loaded focal point"
        ROUND_ROBIN = "round_robin", "Round robin"

    class AboutStaffRule(models.TextChoices):
        """Where a complaint goes when the child says it is about someone who works at
        the unit, or is not sure (before anyone knows whom)."""

        USUAL = "usual", _("Route as usual")
        USUAL_TELL_MANAGER = "usual_manager", _("Route as usual, and tell the unit's manager")
        BACKUPS_TELL_MANAGER = (
            "backups_manager",
            _(
                "Backup focal points only (primary focal points never see it), and tell the "
                "unit's manager"
            ),
        )
        OVERSIGHT = "oversight", _("Send it to the oversight unit")

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="policies")
    version = models.PositiveIntegerField()
    # {"<category code>": "<urgency>"}: the categories this unit handles.
    categories = models.JSONField(default=dict)
    # {"<urgency>": {"acknowledge": hours, "assess": hours, "resolve": hours}}
    deadlines = models.JSONField(default=dict)
    retention_days = models.PositiveIntegerField(default=5 * 365)
    # An SMS reporter record (phone number sealed, and its blind index) with no open case
    # is removed this long after its last activity (complaints/retention.py).
    sms_reporter_retention_days = models.PositiveIntegerField(default=365, db_default=365)
    retraining_due_days = models.PositiveIntegerField(default=90)
    # A child who chose no contact and has not come back this long after the decision
    # may have their case closed untold (and the record says so).
    outcome_wait_days = models.PositiveIntegerField(default=30)
    # How long after being told the outcome a child may ask the oversight unit for a
    # review (complaints.reviews), counted in days of the unit's calendar. Never 0: the
    # unit a child complained about cannot switch off their recourse above it.
    # db_default: rows written by code that predates the field (a data migration run
    # from an older state) get the default too.
    review_window_days = models.PositiveIntegerField(default=30, db_default=30)
    # The emergency protocol, told to a child at once and before anything is filed:
    # [{"label": "Child helpline", "number": "..."}, ...]: public numbers, not secrets.
    emergency_contacts = models.JSONField(default=list, blank=True)
    # When staff must tell someone else to keep a child safe, as codes from
    # CONFIDENTIALITY_LIMITS; children read them in their own words.
    confidentiality_limits = models.JSONField(default=default_confidentiality_limits, blank=True)
    # Services outside Recourse a case may be referred to:
    # [{"name": "...", "kind": "health|psychosocial|legal_aid|other", "contact": "..."}]
    referral_partners = models.JSONField(default=list, blank=True)
    assignment_rule = models.CharField(
        max_length=16, choices=AssignmentRule.choices, default=AssignmentRule.LEAST_LOADED
    )
    # Last step of the escalation chain (backup focal point -> unit manager -> here), and
    # where complaints about the unit's manager or all its focal points go.
    oversight_unit = models.ForeignKey(
        Unit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="overseen_policies",
        limit_choices_to={"sector": Unit.Sector.OVERSIGHT},
    )
    # The child's answer to "Is this about someone who works there?": "yes" and "not
    # sure" each have their rule (routing.route). Versions published before these
    # rules existed routed both as usual, and say so.
    about_staff_yes_rule = models.CharField(
        max_length=16, choices=AboutStaffRule.choices, default=AboutStaffRule.USUAL_TELL_MANAGER
    )
    about_staff_unsure_rule = models.CharField(
        max_length=16, choices=AboutStaffRule.choices, default=AboutStaffRule.USUAL_TELL_MANAGER
    )
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "child protection policies"
        ordering = ["unit", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "version"], name="policy_version_unique"),
        ]

    def __str__(self) -> str:
        state = "published" if self.published_at else "draft"
        return f"{self.unit.code} policy v{self.version} ({state})"

    def save(self, *args, **kwargs):
        # A published version is never edited in place: edit a new draft instead.
        if self.pk and type(self).objects.filter(pk=self.pk, published_at__isnull=False).exists():
            raise ValueError("A published policy version cannot be changed; create a new draft.")
        super().save(*args, **kwargs)

    def deadline_hours(self, urgency: str, step: str) -> int | None:
        return self.deadlines.get(urgency, {}).get(step)

    def about_staff_rule(self, answer: str) -> str | None:
        """The rule for a child's answer to "about someone who works there?"; None for
        "no" or no answer."""
        return {"yes": self.about_staff_yes_rule, "unsure": self.about_staff_unsure_rule}.get(
            answer
        )


class Membership(models.Model):
    """A staff account's role in a unit: focal point (receives and handles cases) or
    manager (compliance and roster; no complaint content)."""

    class Role(models.TextChoices):
        FOCAL_POINT = "focal_point", _("Focal point")
        MANAGER = "manager", _("Unit manager")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    is_backup = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.unit.code}"


class StaffProfile(models.Model):
    """How to reach a staff member urgently, and the language they read. Staff data,
    not a child's: still kept out of logs and notices."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    alert_phone = models.CharField(
        max_length=32, blank=True, help_text="Emergency cases are also sent here by SMS."
    )
    # Staff pages, notices and email in this language; blank: their unit's language
    # (policies.staff_locale.staff_locale_for).
    language = models.CharField(
        max_length=8,
        choices=language_choices,
        blank=True,
        help_text="Blank: the language of the person's unit.",
    )


class PosterPrint(models.Model):
    """A manager printed the unit's poster or leaflet. It keeps what the sheet promised
    children, so a later change of deadlines or emergency numbers asks for a reprint."""

    class Kind(models.TextChoices):
        POSTER = "poster", _("Poster")
        LEAFLET = "leaflet", _("Leaflet")

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="poster_prints")
    # The version in force when it was printed.
    policy = models.ForeignKey(ChildProtectionPolicy, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # policies.selectors.poster_facts() at the time: what the paper on the wall says.
    facts = models.JSONField()
    printed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    printed_at = models.DateTimeField()

    class Meta:
        ordering = ["-printed_at", "-pk"]
        indexes = [models.Index(fields=["unit", "kind", "-printed_at"])]

    def __str__(self) -> str:
        return f"{self.unit.code} {self.kind} printed {self.printed_at:%Y-%m-%d} (v{self.policy.version})"


class WhatsAppTemplate(models.Model):
    """A WhatsApp message template approved for the unit (Twilio Content API), one per
    language. Outside WhatsApp's 24-hour window only a template may be sent: it tells
    the child there is a new message and to reply to read it; the message itself waits
    for the reply (notifications.sms). Its one variable is the case reference: never
    anything the child or staff wrote."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="whatsapp_templates")
    language = models.CharField(max_length=8, choices=language_choices)
    content_sid = models.CharField(
        max_length=34,
        validators=[RegexValidator(r"^HX[0-9a-fA-F]{32}$", "A Content SID: HX and 32 hex digits.")],
        help_text=(
            "Twilio Content SID (HX...) of an approved template saying, in this language, "
            "that there is a new message and to reply to read it. Variable {{1}}: the case "
            "reference."
        ),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "language"], name="one_whatsapp_template")
        ]

    def __str__(self) -> str:
        return f"{self.unit.code} {self.language}: {self.content_sid}"
