"""The restore drill's key ring checks: the ring restored from its own backup opens the
epoch layer of the database's copies and its server-sealed values; a ring missing an
epoch key, or another deployment's ring with the same epoch ids, is named as unfit."""

import json

import pytest
from django.conf import settings as django_settings

from intake.models import SmsReporter
from tests.conftest import complaint_filed
from vault import crypto
from vault.epoch_calendar import epoch_id
from vault.epochs import case_epoch_current, epochs_unopenable
from vault.server_sealed import fields_unopenable


@pytest.fixture
def filed(unit, focal_point):
    case = complaint_filed(unit, contact_preference="email", contact_detail="kid@example.org").case
    SmsReporter.for_phone("+15005550123")
    yield case
    crypto._load_keyring.cache_clear()


def test_the_ring_the_database_was_sealed_with_fits(filed):
    assert epochs_unopenable() == []
    assert fields_unopenable() == []


def test_a_ring_without_the_cases_epoch_key_is_named(filed, settings):
    epoch = case_epoch_current(filed.id)
    assert epoch == epoch_id("open", filed.received_at)
    ring = crypto.KeyRing.from_json(django_settings.RECOURSE_KEYRING)
    settings.RECOURSE_KEYRING = ring.without_epochs([epoch]).to_json()

    assert epochs_unopenable() == [epoch]
    assert fields_unopenable() == []  # the server-sealing keys are all there


def test_another_deployments_ring_with_the_same_ids_is_named(filed, settings):
    theirs = json.loads(django_settings.RECOURSE_KEYRING)
    theirs["keys"] = {k: "b" * 43 + "=" for k in theirs["keys"]}
    theirs["epochs"] = {k: "c" * 43 + "=" for k in theirs["epochs"]}
    settings.RECOURSE_KEYRING = json.dumps(theirs)

    assert epochs_unopenable() == [case_epoch_current(filed.id)]
    assert sorted(fields_unopenable()) == [
        "complaints.Case.delivery_email",
        "intake.SmsReporter.phone",
    ]
