import base64

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from policies.demo import DEMO_PASSWORD


class Command(BaseCommand):
    help = "Development only: list the demo staff logins with their TOTP secret and current code."

    def add_arguments(self, parser):
        parser.add_argument("--user", help="print only this user's current code")

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("demo_logins is for development only.")
        devices = TOTPDevice.objects.filter(
            confirmed=True, name="Demo authenticator"
        ).select_related("user")
        if options["user"]:
            device = devices.filter(user__username=options["user"]).first()
            if device is None:
                raise CommandError(f"No demo authenticator for {options['user']!r}.")
            self.stdout.write(self._code(device))
            return
        base = settings.PUBLIC_BASE_URL
        self.stdout.write(f"Staff sign-in: {base}/staff/   (admin: {base}/admin/)")
        self.stdout.write(f"Every demo password: {DEMO_PASSWORD}")
        self.stdout.write("Second factor: add the secret to an authenticator app, or run")
        self.stdout.write("  make totp USER=<username>   for the current 6-digit code.\n")
        self.stdout.write(f"{'username':<18} {'roles':<34} {'TOTP secret (base32)':<34} code now")
        for device in devices.order_by("user__username"):
            user = device.user
            roles = ", ".join(
                f"{m.get_role_display()} {m.unit.code}"
                for m in user.memberships.select_related("unit")
            ) or ("platform admin" if user.is_superuser else "-")
            secret = base64.b32encode(device.bin_key).decode().rstrip("=")
            self.stdout.write(f"{user.username:<18} {roles:<34} {secret:<34} {self._code(device)}")

    @staticmethod
    def _code(device: TOTPDevice) -> str:
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        return f"{totp.token():0{device.digits}d}"
