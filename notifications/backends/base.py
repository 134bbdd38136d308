class SendError(Exception):
    """Carries the provider's error code only: never the number or the text."""

    def __init__(self, code: str = ""):
        super().__init__(code)
        self.code = code


class TransientSendError(SendError):
    """Worth retrying later (network trouble, provider overloaded)."""


class PermanentSendError(SendError):
    """Retrying will not help (the number opted out, is invalid, cannot receive SMS)."""


class SmsBackend:
    def send(
        self, *, to: str, body: str, status_callback: str | None = None, sender: str | None = None
    ) -> str:
        """Send one text; return the provider's message id. `sender` ("whatsapp:+...")
        replaces the default SMS sender: WhatsApp texts go from a WhatsApp address."""
        raise NotImplementedError

    def send_template(
        self,
        *,
        to: str,
        content_sid: str,
        variables: dict[str, str],
        sender: str,
        status_callback: str | None = None,
    ) -> str:
        """Send an approved WhatsApp template (outside WhatsApp's 24-hour window free
        text is refused); return the provider's message id."""
        raise NotImplementedError
