"""Headless Chromium for tests: Debian's /usr/bin/chromium (or $CHROMIUM) driven by Playwright, never a
downloaded browser, on a fresh profile, with every request that is not a local file or data: URL refused and
recorded, and every console error and page error recorded. Tests skip, saying why, where no browser can be had.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass, field

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]


def chromium_path():
    """The system Chromium to drive: $CHROMIUM, else chromium or chromium-browser on the PATH."""
    for candidate in (os.environ.get("CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


@dataclass
class Browser:
    page: object
    requests: list = field(default_factory=list)  # every URL the page asked for
    refused: list = field(default_factory=list)  # the ones that would have gone over the network
    errors: list = field(default_factory=list)  # console errors and uncaught exceptions

    def assert_clean(self):
        assert not self.refused, f"the page tried to fetch from the network: {self.refused}"
        assert not self.errors, f"the page logged errors: {self.errors}"


def _local(url: str) -> bool:
    return url.startswith(("file:", "data:", "about:", "blob:"))


@contextlib.contextmanager
def chromium(profile_dir, viewport=(1150, 900)):
    """A Browser with one page on a fresh profile in `profile_dir`; skips the test when Playwright or a system
    Chromium is missing, or when Chromium cannot start here."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        pytest.skip("browser test: Playwright (pip install playwright) is not installed; it drives the system "
                    "Chromium, no browser download needed")
    exe = chromium_path()
    if exe is None:
        pytest.skip("browser test: no system Chromium (apt install chromium, or set $CHROMIUM to its path)")
    with sync_playwright() as p:
        try:
            context = p.chromium.launch_persistent_context(
                str(profile_dir), executable_path=exe, headless=True, args=FLAGS,
                viewport={"width": viewport[0], "height": viewport[1]}, service_workers="block")
        except Error as e:
            pytest.skip(f"browser test: {exe} does not start here: {str(e).splitlines()[0]}")
        try:
            page = context.pages[0] if context.pages else context.new_page()
            b = Browser(page)

            def route(r):
                url = r.request.url
                if _local(url):
                    r.continue_()
                else:
                    b.refused.append(url)
                    r.abort()

            context.route("**/*", route)
            page.on("request", lambda req: b.requests.append(req.url))
            page.on("console", lambda m: b.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: b.errors.append(f"uncaught: {e}"))
            yield b
        finally:
            context.close()
