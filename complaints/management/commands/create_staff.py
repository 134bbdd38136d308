import getpass

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from policies.models import Membership, StaffProfile, Unit
from policies.services import membership_recorded
from vault.keys import staff_key_create


class Command(BaseCommand):
    help = (
        "Create a staff account with a role in a unit and print its otpauth:// URI once "
        "(add it to an authenticator app; it is not shown again)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--unit", required=True, help="unit code, e.g. DKR1")
        parser.add_argument("--role", required=True, choices=Membership.Role.values)
        parser.add_argument("--email", default="")
        parser.add_argument("--backup", action="store_true", help="a backup focal point")
        parser.add_argument("--alert-phone", default="", help="receives emergency alerts by SMS")
        parser.add_argument("--password", help="omit to be asked (safer: not in shell history)")

    def handle(self, *args, **options):
        User = get_user_model()
        try:
            unit = Unit.objects.get(code=options["unit"].upper())
        except Unit.DoesNotExist:
            raise CommandError(f"No unit with code {options['unit']!r}.") from None
        if User.objects.filter(username=options["username"]).exists():
            raise CommandError(f"User {options['username']!r} exists already.")
        password = options["password"] or self._ask_password()
        candidate = User(username=options["username"], email=options["email"])
        try:
            validate_password(password, candidate)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None

        with transaction.atomic():
            user = User.objects.create_user(
                username=options["username"], email=options["email"], password=password
            )
            membership = Membership.objects.create(
                user=user, unit=unit, role=options["role"], is_backup=options["backup"]
            )
            membership_recorded(membership=membership, actor=None, change="added")
            device = TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=True)
            staff_key_create(user=user, password=password)
            if options["alert_phone"]:
                StaffProfile.objects.create(user=user, alert_phone=options["alert_phone"])
        self.stdout.write(
            self.style.SUCCESS(f"Created {user.username}: {options['role']} of {unit.code}.")
        )
        self.stdout.write("Add this to an authenticator app now; it is shown only once:")
        self.stdout.write(device.config_url)

    def _ask_password(self) -> str:
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The passwords do not match.")
        return first
