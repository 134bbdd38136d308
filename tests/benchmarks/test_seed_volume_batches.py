"""`make bench` on PostgreSQL: no INSERT of seed_volume may carry more than 65,535
parameters, PostgreSQL's limit with server-side binding (the default)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from benchmarks.management.commands.seed_volume import BATCH, MAX_PARAMETERS, batch_size
from complaints.models import Case
from vault.models import CaseKey


def test_batches_stay_under_postgresqls_parameter_limit():
    for model in (Case, CaseKey):
        assert len(model._meta.concrete_fields) * min(BATCH, batch_size(model)) <= MAX_PARAMETERS
    assert len(Case._meta.concrete_fields) * BATCH > MAX_PARAMETERS  # why batch_size exists


@pytest.mark.django_db
def test_seed_volume_bulk_inserts_are_batched(settings, monkeypatch, focal_point):
    """What Case.objects.bulk_create is asked to do, on any database."""
    settings.RECOURSE_ENV = "development"
    asked = []
    original = type(Case.objects).bulk_create

    def spy(manager, objs, *args, **kwargs):
        asked.append((manager.model, len(objs), kwargs.get("batch_size")))
        return original(manager, objs, *args, **kwargs)

    monkeypatch.setattr(type(Case.objects), "bulk_create", spy)
    call_command("seed_volume", "--cases", "50", stdout=StringIO())
    assert asked and all(
        size is not None and len(model._meta.concrete_fields) * size <= MAX_PARAMETERS
        for model, _, size in asked
    )


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's limit")
def test_seed_volume_of_one_full_batch_runs_on_postgresql(settings, focal_point):
    settings.RECOURSE_ENV = "development"
    call_command("seed_volume", "--cases", str(BATCH), stdout=StringIO())
    assert Case.objects.count() >= BATCH
