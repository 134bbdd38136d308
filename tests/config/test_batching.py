import pytest
from django.contrib.auth.models import Group

from config.batching import iter_batches


@pytest.mark.django_db
def test_pages_in_primary_key_order_each_row_once_even_when_rows_change():
    for n in range(7):
        Group.objects.create(name=f"batch-{n}")
    seen = []
    for page in iter_batches(Group.objects.filter(name__startswith="batch-"), 3):
        seen.append([group.name for group in page])
        # Handled rows stop matching, as a caller that rewrites each page would make them.
        for group in page:
            Group.objects.filter(pk=group.pk).update(name=f"done-{group.name}")
    assert seen == [
        ["batch-0", "batch-1", "batch-2"],
        ["batch-3", "batch-4", "batch-5"],
        ["batch-6"],
    ]
