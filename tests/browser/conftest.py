import os
import shutil

import pytest

# Playwright's sync API runs an event loop in the test thread; the test still reads
# the database (TOTP secrets, assertions) from that thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        # Not a skip: `make test` installs Debian's chromium; without it this is a failure.
        raise RuntimeError("Debian's chromium is not installed (apt-get install chromium).")
    return path


@pytest.fixture(scope="session")
def playwright():
    # One driver for the session: two sync_playwright() at once are refused.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def browser_with_bfcache(playwright):
    """Chromium as a child's phone runs it: Playwright turns the back-forward cache off
    by default (--disable-back-forward-cache), and Back would then never show a page
    kept in memory, typed text and all. Tests of Exit and Back run with it on."""
    browser = playwright.chromium.launch(
        executable_path=chromium_path(),
        args=CHROMIUM_ARGS,
        ignore_default_args=["--disable-back-forward-cache"],
    )
    yield browser
    browser.close()


@pytest.fixture
def exit_site(settings):
    """A local stand-in for the neutral site "Exit this page" leads to. The browser gets
    there through our /exit/ redirect, and Playwright cannot route a redirect's target
    (page.route sees only the first URL), so it is served for real; another origin than
    the live server's, as the real one is."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Weather(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!doctype html><title>Weather</title><h1>Weather</h1>"
            if self.path == "/form":  # an ordinary cacheable page, to show Back's cache works
                body = (
                    b'<!doctype html><title>Form</title><label for="t">Text</label>'
                    b'<textarea id="t" autocomplete="off"></textarea>'
                )
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Weather)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/weather"
    settings.QUICK_EXIT_URL = url
    yield url
    server.shutdown()
    server.server_close()
