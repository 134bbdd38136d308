"""Epoch ids: one per month and family, "open-2026-12" and "closed-2026-12"
(vault/epochs.py says what they are for). Plain functions, no models: the app's checks
use them before the models are loaded."""

from datetime import date, datetime

OPEN, CLOSED = "open", "closed"


def epoch_id(family: str, moment: datetime | date) -> str:
    return f"{family}-{moment:%Y-%m}"


def epoch_month_end(epoch: str) -> date | None:
    """The first day after the epoch's month; None for an id that names no month."""
    try:
        year, month = (int(part) for part in epoch.rsplit("-", 2)[-2:])
        return date(year + month // 12, month % 12 + 1, 1)
    except ValueError:
        return None


def epoch_ids_for_months(first: date, months: int) -> list[str]:
    """Both families' ids for `months` months from `first`'s month on."""
    ids = []
    year, month = first.year, first.month
    for _ in range(months):
        moment = date(year, month, 1)
        ids += [epoch_id(OPEN, moment), epoch_id(CLOSED, moment)]
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return ids
