import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# gunicorn runs no system checks, unlike runserver and management commands: run them
# here and refuse to serve at all (rather than fail at the first complaint) when one
# is an error, such as a key ring that cannot load or DEBUG in production.
from django.core import checks  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402

_errors = [m for m in checks.run_checks() if m.is_serious() and not m.is_silenced()]
if _errors:
    raise ImproperlyConfigured("System check errors:\n" + "\n".join(str(m) for m in _errors))
