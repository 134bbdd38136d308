"""A roster member's competency record: the training they took, how they were rated,
and the retraining substantiated complaints gave them. It names staff only; a case
appears by its reference, never by what the child said.

The unit's training register can be imported from a CSV file: every line is checked
first, and a file with one wrong line imports nothing (each error is reported with its
line number)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from competencies.models import (
    Competency,
    Evaluation,
    Rating,
    RetrainingAssignment,
    StaffMember,
    TrainingLevel,
    TrainingRecord,
)
from competencies.services import sector_competencies, training_level_for
from complaints.audit import audit_record
from policies.models import Unit

# --- One person's record -----------------------------------------------------------------


@dataclass(frozen=True)
class StaffRecord:
    member: StaffMember
    trainings: list[TrainingRecord]
    evaluations: list[Evaluation]
    retraining: list[RetrainingAssignment]


def staff_record(member: StaffMember) -> StaffRecord:
    """Three queries, however long the record."""
    return StaffRecord(
        member=member,
        trainings=list(member.trainings.select_related("competency")),
        evaluations=list(member.evaluations.select_related("competency")),
        retraining=list(member.retraining.order_by("-created_at", "-id")),
    )


@transaction.atomic
def training_record_add(
    *,
    member: StaffMember,
    competency: Competency,
    level: str,
    completed_on: date,
    provider: str,
    evidence: str = "",
    actor,
) -> TrainingRecord:
    record, created = TrainingRecord.objects.get_or_create(
        staff_member=member,
        competency=competency,
        level=level,
        completed_on=completed_on,
        defaults={"provider": provider, "evidence": evidence, "entered_by": actor},
    )
    if created:
        audit_record(
            action="competencies.training.recorded",
            actor=actor,
            data={"staff_member": member.pk, "competency": competency.number, "level": level},
        )
    return record


def proposed_level(member: StaffMember, rating: str, on: date) -> str:
    """The training to plan after a rating: none unless below expectations; then
    basic training for someone in service under a year, else professional development."""
    if rating != Rating.BELOW_EXPECTATIONS:
        return ""
    return training_level_for(member, on)


@transaction.atomic
def evaluation_add(
    *,
    member: StaffMember,
    competency: Competency,
    facet: str,
    rating: str,
    evaluated_on: date,
    evaluator: str,
    level: str = "",
    actor,
) -> Evaluation:
    """Record one rating. "Below expectations" keeps the level the manager chose, or
    proposes one (proposed_level); any other rating plans no training."""
    below = rating == Rating.BELOW_EXPECTATIONS
    evaluation = Evaluation.objects.create(
        staff_member=member,
        competency=competency,
        facet=facet,
        rating=rating,
        evaluated_on=evaluated_on,
        evaluator=evaluator,
        proposed_level=(level or proposed_level(member, rating, evaluated_on)) if below else "",
        entered_by=actor,
    )
    audit_record(
        action="competencies.evaluation.recorded",
        actor=actor,
        data={"staff_member": member.pk, "competency": competency.number, "rating": rating},
    )
    return evaluation


# --- The training register, from CSV -------------------------------------------------------

REGISTER_COLUMNS = ("staff_member", "competency", "level", "date", "provider", "evidence")
REGISTER_MAX_BYTES = 2 * 1024 * 1024
REGISTER_MAX_LINES = 5000


class RegisterRefused(Exception):
    """The whole file is refused (too big, not text, no header): nothing imported."""


@dataclass
class RegisterImport:
    created: int = 0
    already_there: int = 0
    errors: list[str] = field(default_factory=list)  # "line 4: ...", in file order


def register_template() -> str:
    """The header and one example line, for a unit to fill in."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(REGISTER_COLUMNS)
    writer.writerow(["Awa Diop", "1", "basic", "2026-03-14", "National police school", "C-1234"])
    return out.getvalue()


def _rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    if len(data) > REGISTER_MAX_BYTES:
        raise RegisterRefused(_("The file is larger than 2 MB: split it and import each part."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RegisterRefused(
            _("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")
        ) from None
    lines = text.splitlines()
    if not lines:
        raise RegisterRefused(_("The file is empty."))
    if len(lines) > REGISTER_MAX_LINES + 1:
        raise RegisterRefused(
            _("The file has more than %(max)d lines: split it and import each part.")
            % {"max": REGISTER_MAX_LINES}
        )
    # Spreadsheets in French and Spanish save with semicolons.
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(lines, delimiter=delimiter)
    header = [name.strip().lower() for name in next(reader)]
    missing = [name for name in REGISTER_COLUMNS[:5] if name not in header]
    if missing:
        raise RegisterRefused(
            _("The first line must name the columns; missing: %(columns)s.")
            % {"columns": ", ".join(missing)}
        )
    rows = []
    for number, values in enumerate(reader, start=2):
        if not any(value.strip() for value in values):
            continue  # blank lines at the end of a spreadsheet
        rows.append(
            (
                number,
                {
                    name: (values[i].strip() if i < len(values) else "")
                    for i, name in enumerate(header)
                },
            )
        )
    return rows


def _record_from(
    row: dict[str, str],
    *,
    members: dict[str, list[StaffMember]],
    competencies: dict[str, Competency],
) -> tuple[TrainingRecord | None, list[str]]:
    problems = []
    named = members.get(row["staff_member"].casefold(), [])
    if not named:
        problems.append(_("no one called “%(name)s” on the roster") % {"name": row["staff_member"]})
    elif len(named) > 1:
        problems.append(
            _("two people on the roster are called “%(name)s”: enter this line by hand")
            % {"name": row["staff_member"]}
        )
    competency = competencies.get(row["competency"])
    if competency is None:
        problems.append(
            _("“%(value)s” is not the number of a competency of this unit's framework")
            % {"value": row["competency"]}
        )
    level = row["level"].lower()
    if level not in TrainingLevel.values:
        problems.append(
            _("level “%(value)s” is not basic, specialised or professional_development")
            % {"value": row["level"]}
        )
    try:
        completed_on = date.fromisoformat(row["date"])
    except ValueError:
        completed_on = None
        problems.append(_("“%(value)s” is not a date like 2026-03-14") % {"value": row["date"]})
    else:
        if completed_on > timezone.localdate():
            problems.append(_("the date %(value)s is in the future") % {"value": row["date"]})
    if not row["provider"]:
        problems.append(_("the provider or course is missing"))
    if len(row["provider"]) > 200 or len(row.get("evidence", "")) > 500:
        problems.append(_("the provider or the evidence is too long"))
    if problems:
        return None, problems
    return (
        TrainingRecord(
            staff_member=named[0],
            competency=competency,
            level=level,
            completed_on=completed_on,
            provider=row["provider"],
            evidence=row.get("evidence", ""),
            source=TrainingRecord.Source.IMPORTED,
        ),
        [],
    )


def training_register_import(*, unit: Unit, data: bytes, actor) -> RegisterImport:
    """Check every line of the unit's training register, then import all of it in one
    transaction, or nothing when a line is wrong. A training already recorded (same
    person, competency, level and date) is not recorded twice: importing the same
    file again adds nothing. RegisterRefused when the file itself cannot be read."""
    members: dict[str, list[StaffMember]] = {}
    for member in StaffMember.objects.filter(unit=unit):
        members.setdefault(member.name.strip().casefold(), []).append(member)
    competencies = {str(c.number): c for c in sector_competencies(unit)}
    result = RegisterImport()
    records = []
    for number, row in _rows(data):
        record, problems = _record_from(row, members=members, competencies=competencies)
        result.errors += [
            _("line %(line)d: %(problem)s") % {"line": number, "problem": p} for p in problems
        ]
        if record is not None:
            record.entered_by = actor
            records.append(record)
    if result.errors:
        return result
    with transaction.atomic():
        existing = set(
            TrainingRecord.objects.filter(staff_member__unit=unit).values_list(
                "staff_member_id", "competency_id", "level", "completed_on"
            )
        )
        fresh = {}
        for r in records:
            key = (r.staff_member_id, r.competency_id, r.level, r.completed_on)
            if key not in existing:
                fresh.setdefault(key, r)  # a line repeated in the file counts once
        TrainingRecord.objects.bulk_create(fresh.values())
        result.created = len(fresh)
        result.already_there = len(records) - len(fresh)
        audit_record(
            action="competencies.training.imported",
            actor=actor,
            data={"unit": unit.code, "created": result.created, "already": result.already_there},
        )
    return result
