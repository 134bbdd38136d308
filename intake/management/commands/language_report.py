from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from intake.language_files import NewLanguageRefused, language_report, new_language_file


class Command(BaseCommand):
    help = (
        "For a translator: the strings of language CODE still to translate (empty or "
        "fuzzy: they show in English) and each SMS text's segments in it (two at most). "
        'With --new --name "Wolof" --name-local "Wolof" [--rtl]: create the file to '
        'translate in LOCALE_EXTRA_DIR (README, "Adding a language").'
    )

    def add_arguments(self, parser):
        parser.add_argument("code", help="language code, e.g. wo, mos")
        parser.add_argument("--new", action="store_true", help="create the file to translate")
        parser.add_argument("--name", help="with --new: the language's name in English")
        parser.add_argument("--name-local", help="with --new: its name in itself")
        parser.add_argument("--rtl", action="store_true", help="with --new: right to left")

    def handle(self, *args, **options):
        code = options["code"].strip().lower()
        if options["new"]:
            self._new(code, options)
            return
        try:
            report = language_report(code)
        except OSError as missing:
            raise CommandError(
                f"No translation file for {code}: create one with --new. ({missing})"
            ) from missing
        if code not in dict(settings.LANGUAGES):
            self.stdout.write(
                self.style.WARNING(f"{code} is not offered yet: restart the service to add it.")
            )
        missing = report.untranslated + report.fuzzy
        self.stdout.write(
            f"{code} ({report.po_path}): {report.total} strings, {len(missing)} missing "
            f"({len(report.untranslated)} untranslated, {len(report.fuzzy)} fuzzy). "
            "Missing strings show in English."
        )
        for entry in missing:
            where = entry.occurrences[0][0] if entry.occurrences else ""
            state = "fuzzy" if entry in report.fuzzy else "missing"
            context = f"[{entry.msgctxt}] " if entry.msgctxt else ""
            first_line = entry.msgid.splitlines()[0] if entry.msgid else ""
            self.stdout.write(f"  {state}: {context}{first_line[:90]}  ({where})")
        over = [sms for sms in report.sms if sms.over]
        self.stdout.write(
            f"SMS texts (two segments at most: 306 characters in GSM-7, 134 in UCS-2): "
            f"{len(report.sms)} checked, {len(over)} too long."
        )
        for sms in report.sms:
            encoding = "GSM-7" if sms.gsm else "UCS-2"
            line = f"  {sms.name}: {sms.segments} segments, {sms.length} {encoding}"
            self.stdout.write(self.style.ERROR(f"{line}  TOO LONG") if sms.over else line)

    def _new(self, code: str, options) -> None:
        if not options["name"]:
            raise CommandError('--new needs --name "<the language in English>".')
        try:
            path = new_language_file(
                code=code,
                name=options["name"],
                name_local=options["name_local"] or options["name"],
                rtl=options["rtl"],
            )
        except NewLanguageRefused as refused:
            raise CommandError(str(refused)) from refused
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {path}: translate it, run `manage.py language_report {code}`, "
                "then restart the service to offer it."
            )
        )
