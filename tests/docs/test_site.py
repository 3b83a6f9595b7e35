"""The documentation site: it builds offline with warnings and broken cross-references as errors, and every
page, opened in a real browser (headless Chromium, driven by Playwright), loads without a console error, a
broken link or image, or a single request to anything but this machine.

Set TINYGRAD_NN_SITE to a built site (CI builds it once: .ci/run) to test that instead of building one here.
Skips, saying why, where Sphinx (the docs extra: pip install ".[docs]"), Playwright or Chromium are missing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.conftest import ROOT, tree_env

DOCS = ROOT / "docs"
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def _missing(*modules):
    return [m for m in modules if importlib.util.find_spec(m) is None]


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The built site's folder: TINYGRAD_NN_SITE if set, else a fresh build (checked to be warning-free)."""
    given = os.environ.get("TINYGRAD_NN_SITE")
    if given:
        folder = Path(given).resolve()
        assert (folder / "index.html").is_file(), f"TINYGRAD_NN_SITE={given} holds no built site (no index.html)"
        return folder
    missing = _missing("sphinx", "myst_parser", "furo")
    if missing:
        pytest.skip(f"the docs extra is not installed ({', '.join(missing)} missing): pip install '.[docs]'")
    out = tmp_path_factory.mktemp("site") / "html"
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q", "-b", "html", str(DOCS), str(out)],
        capture_output=True, text=True, env=tree_env(MPLBACKEND="Agg"), cwd=ROOT, timeout=900)
    assert done.returncode == 0, f"the docs build failed:\n{done.stderr[-6000:]}"
    assert "WARNING" not in done.stderr and "ERROR" not in done.stderr, done.stderr[-6000:]
    return out


def pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if not {"_static", "_sources", "_images"} & set(p.parts))


def test_site_has_every_page(site):
    built = {p.relative_to(site).as_posix() for p in pages(site)}
    sources = {p.relative_to(DOCS).with_suffix(".html").as_posix() for p in DOCS.rglob("*.md")
               if not {"_build", "_ext", "_static"} & set(p.relative_to(DOCS).parts)}
    assert sources <= built, f"pages not built: {sorted(sources - built)}"
    assert {"genindex.html", "search.html", "api/3-nn.html", "tutorial/10-cnn.html"} <= built


def test_the_reference_documents_every_public_name(site):
    """Every public name of the package's modules has an entry (an anchor named after it) in the reference."""
    sys.path.insert(0, str(DOCS / "_ext"))
    import api_names

    text = "\n".join(p.read_text(encoding="utf-8") for p in (site / "api").glob("*.html"))
    absent = [f"{m}.{n}" for m in api_names.MODULES for n in api_names.public_names(m)
              if f'id="{m}.{n}"' not in text]
    assert not absent, f"public names without an entry in the API reference: {absent}"


def test_the_tutorial_figures_are_made_by_the_build(site):
    """Every tutorial page shows what its code printed, and the pages that draw show their figures, inline."""
    for page in sorted((site / "tutorial").glob("[0-9]*.html")):
        html = page.read_text(encoding="utf-8")
        assert "page-output" in html, f"{page.name} shows no output of its code"
        source = (DOCS / "tutorial" / page.name).with_suffix(".md").read_text(encoding="utf-8")
        drawn = source.count("plt.subplots(")
        assert html.count('class="page-figure') == drawn, f"{page.name}: {drawn} figures drawn"


# ------------------------------------------------------------------------------------------------------------
# In a browser.


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if _missing("playwright"):
        pytest.skip("Playwright is not installed (pip install playwright; it drives the system's Chromium)")
    executable = _chromium()
    if executable is None:
        pytest.skip("no Chromium on this machine (Debian: apt-get install chromium); the browser tests need one")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=executable, headless=True,
            args=BROWSER_FLAGS, viewport={"width": 1200, "height": 900})
        try:
            yield context
        finally:
            context.close()


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("file", "data", "about", "blob") or parts.hostname in LOCAL_HOSTS


def _visit(context, url):
    """Open `url`; return (console errors, requests that left the machine, broken images, links found)."""
    page = context.new_page()
    errors, remote = [], []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.on("requestfailed", lambda request: errors.append(f"failed to load {request.url}: {request.failure}"))
    page.on("request", lambda request: None if _is_local(request.url) else remote.append(request.url))
    # Anything that would leave the machine is recorded above and refused here, so a test never waits on it.
    page.route(lambda url: not _is_local(url), lambda route: route.abort())
    try:
        page.goto(url, wait_until="load")
        page.wait_for_load_state("networkidle")
        broken = page.eval_on_selector_all(
            "img", "images => images.filter(i => !(i.complete && i.naturalWidth > 0))"
            "  .map(i => i.src.startsWith('data:') ? i.src.slice(0, 60) + '...' : i.src)")
        links = page.eval_on_selector_all("a[href]", "anchors => anchors.map(a => a.href)")
        ids = set(page.eval_on_selector_all("[id]", "elements => elements.map(e => e.id)"))
    finally:
        page.close()
    return errors, remote, broken, links, ids


def test_every_page_in_a_browser(site, browser):
    """Each page loads cleanly and offline; every link into the site reaches a page (and the anchor on it)."""
    problems, anchors, targets = [], {}, []
    for path in pages(site):
        url = path.as_uri()
        errors, remote, broken, links, ids = _visit(browser, url)
        name = path.relative_to(site).as_posix()
        anchors[path] = ids
        problems += [f"{name}: console error: {e}" for e in errors]
        problems += [f"{name}: fetched from the network: {u}" for u in remote]
        problems += [f"{name}: broken image: {src}" for src in broken]
        for link in links:
            parts = urlsplit(link)
            if parts.scheme == "file":
                targets.append((name, Path(unquote(parts.path)), unquote(parts.fragment)))
            elif parts.scheme not in ("http", "https", "mailto"):
                problems.append(f"{name}: a link of unknown kind: {link}")
    for name, target, fragment in targets:
        if not target.exists():
            problems.append(f"{name}: broken link to {target}")
        elif fragment and target.suffix == ".html" and target in anchors and fragment not in anchors[target]:
            problems.append(f"{name}: link to {target.name}#{fragment}, which has no such anchor")
    assert len(anchors) >= 20
    assert not problems, "\n".join(problems)


def test_the_browser_test_sees_trouble(browser, tmp_path):
    """The checks above can fail: a page with a missing image, a script error and a font from a CDN."""
    page = tmp_path / "bad.html"
    page.write_text('<html><head><link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">'
                    '</head><body><img src="missing.png"><script>undefined_function()</script></body></html>')
    errors, remote, broken, _, _ = _visit(browser, page.as_uri())
    assert any("undefined_function" in e for e in errors)
    assert remote == ["https://fonts.googleapis.com/css?family=Roboto"]
    assert broken == [(tmp_path / "missing.png").as_uri()]
