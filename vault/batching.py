"""Reading a large table in primary-key order, a page at a time."""

from collections.abc import Iterator
from typing import TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


def rows_in_batches(rows: models.QuerySet[M], size: int) -> Iterator[list[M]]:
    """Lists of at most `size` rows, in primary-key order, each read by its own query
    after the last key of the previous one: rows changed between batches are neither
    skipped nor read twice, and no transaction stays open across batches."""
    rows = rows.order_by("pk")
    last_pk = None
    while True:
        page = rows if last_pk is None else rows.filter(pk__gt=last_pk)
        batch = list(page[:size])
        if not batch:
            return
        yield batch
        last_pk = batch[-1].pk
