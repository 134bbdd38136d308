from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class PoliciesConfig(AppConfig):
    name = "policies"
    verbose_name = "Units and policies"

    def ready(self) -> None:
        # Not at the top: models cannot be imported before the app registry is ready
        # (a cycle with app loading).
        from policies import models, selectors

        forget, unit = selectors.unit_codes_forget, models.Unit
        post_save.connect(forget, sender=unit, dispatch_uid="unit-codes-forget")
        post_delete.connect(forget, sender=unit, dispatch_uid="unit-codes-forget-delete")
