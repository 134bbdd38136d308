"""The compliance review's summary: figures per unit and day of receipt, kept by the
minute sweep (oversight/summary.py), so a review over a year of a national
deployment's cases adds up a few thousand rows instead of grouping every case."""

from django.db import models


class CaseDayFigures(models.Model):
    """The review's additive figures for the cases a unit received on one UTC day, by
    urgency, channel and language, as they stood at the sweep's last run."""

    unit = models.ForeignKey("policies.Unit", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()  # of receipt, UTC
    urgency = models.CharField(max_length=16)
    channel = models.CharField(max_length=8)
    language = models.CharField(max_length=8)
    # Names as oversight.summary.FIGURES (the live aggregates' names).
    received = models.PositiveIntegerField(default=0)
    ack_eligible = models.PositiveIntegerField(default=0)
    ack_met = models.PositiveIntegerField(default=0)
    res_eligible = models.PositiveIntegerField(default=0)
    res_met = models.PositiveIntegerField(default=0)
    decided = models.PositiveIntegerField(default=0)
    told = models.PositiveIntegerField(default=0)
    substantiated = models.PositiveIntegerField(default=0)
    unsubstantiated = models.PositiveIntegerField(default=0)
    referred = models.PositiveIntegerField(default=0)
    withdrawn = models.PositiveIntegerField(default=0)
    late = models.PositiveIntegerField(default=0)
    escalated = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "day", "urgency", "channel", "language"],
                name="casedayfigures_key",
            )
        ]
        indexes = [models.Index(fields=["day", "unit"], name="casedayfigures_day_idx")]


class SummaryDirty(models.Model):
    """A unit's day whose cases changed since the sweep last summed it. Written by
    database triggers on complaints_case and complaints_caseevent (migration
    0001_compliance_summary), so no way of writing a case (save, update, bulk, SQL) is
    missed. Duplicates are fine: the sweep takes each day once."""

    unit_id = models.BigIntegerField()
    day = models.DateField()


class SummaryState(models.Model):
    """One row: when the summary was first built (none: every figure is live) and when
    the sweep last ran (deadlines passed since then make days to sum again)."""

    built_at = models.DateTimeField(null=True)
    swept_at = models.DateTimeField(null=True)
