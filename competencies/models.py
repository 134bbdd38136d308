from django.conf import settings
from django.db import models


class StaffMember(models.Model):
    """A person on a unit's roster: who a complaint can be about. Needs no login; when
    the person also has an account (a focal point, a manager), `user` links it, which
    is how a conflict of interest is found."""

    unit = models.ForeignKey("policies.Unit", on_delete=models.PROTECT, related_name="roster")
    name = models.CharField(max_length=200)
    role_title = models.CharField(max_length=120, blank=True)
    in_service_since = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["unit", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.unit.code})"
