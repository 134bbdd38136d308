from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class PoliciesConfig(AppConfig):
    name = "policies"
    verbose_name = "Units and policies"

    def ready(self) -> None:
        # Not at the top: selectors imports models, which need the app registry ready.
        from policies.models import Unit
        from policies.selectors import unit_codes_forget

        post_save.connect(unit_codes_forget, sender=Unit, dispatch_uid="unit-codes-forget")
        post_delete.connect(unit_codes_forget, sender=Unit, dispatch_uid="unit-codes-forget-d")
