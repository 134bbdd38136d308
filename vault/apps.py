from django.apps import AppConfig
from django.core import checks

from vault.crypto import KeyRingError, get_keyring


class VaultConfig(AppConfig):
    name = "vault"

    def ready(self) -> None:
        checks.register(check_keyring, checks.Tags.security)


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
