import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Refuse to serve at all, rather than fail at the first complaint, when the key ring
# cannot be loaded.
from complaints.crypto import get_keyring  # noqa: E402

get_keyring()
