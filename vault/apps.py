from datetime import date

from django.apps import AppConfig
from django.core import checks

from vault.crypto import KeyRingError, get_keyring
from vault.epoch_calendar import epoch_ids_for_months


class VaultConfig(AppConfig):
    name = "vault"

    def ready(self) -> None:
        checks.register(check_keyring, checks.Tags.security)
        checks.register(check_epoch_keys_ahead, checks.Tags.security)


def check_keyring(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """The key ring must load: without it no complaint can be stored or read."""
    try:
        get_keyring()
    except KeyRingError as exc:
        return [
            checks.Error(
                f"The key ring cannot be used: {exc}.",
                hint="Create one with `manage.py keyring_add --file PATH` and point "
                "RECOURSE_KEYRING_FILE at it.",
                id="recourse.E001",
            )
        ]
    return []


def check_epoch_keys_ahead(
    app_configs: object = None, **kwargs: object
) -> list[checks.CheckMessage]:
    """Epoch keys for this month and the next must be in the key ring: without them new
    copies fall back to an older epoch (or none), and expiry reaches backups later."""
    try:
        ring_epochs = get_keyring().epochs
    except KeyRingError:
        return []  # check_keyring reports it
    today = date.today()
    wanted = epoch_ids_for_months(today, 2)
    missing = [e for e in wanted if e not in ring_epochs]
    if not missing:
        return []
    return [
        checks.Warning(
            f"The key ring has no epoch key for {', '.join(missing)}.",
            hint="Run `manage.py epoch_keys_add --file PATH` and copy the key ring to every node.",
            id="recourse.W010",
        )
    ]
