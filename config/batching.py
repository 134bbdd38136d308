"""Reading many rows without holding them all: pages in primary key order."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet


def iter_batches(rows: QuerySet, size: int) -> Iterator[list]:
    """The rows of `rows` as lists of at most `size`, in primary key order. Each page is
    read when the previous one has been handled and starts after its last primary key,
    so a caller may change or commit a page before the next is read: no row is read
    twice, and rows that stop matching `rows` meanwhile are not read again."""
    rows = rows.order_by("pk")
    last_pk = None
    while True:
        page = list((rows if last_pk is None else rows.filter(pk__gt=last_pk))[:size])
        if not page:
            return
        yield page
        last_pk = page[-1].pk
