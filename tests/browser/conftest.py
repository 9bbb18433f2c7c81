"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright; never a downloaded browser."""

import io
import os
from pathlib import Path

import pytest

from django.conf import settings
from django.core.management import call_command

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENS = Path(__file__).resolve().parents[2] / "bench" / "out" / "screens"
WIDTHS = {"phone": 390, "desktop": 1280}


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def demo_site(transactional_db):
    """Regions and demo data in the live server's database (transactional tests start empty).

    A flush also empties what migrations had created (Wagtail's locale and root page), so make them first.
    """
    from django.conf import settings

    from wagtail.models import Collection, Locale, Page

    Locale.objects.get_or_create(language_code=settings.LANGUAGE_CODE)
    if Page.get_first_root_node() is None:
        Page.add_root(instance=Page(title="Root", slug="root"))
    if Collection.get_first_root_node() is None:
        Collection.add_root(name="Root")
    call_command("load_regions", verbosity=0)
    call_command("seed_demo", stdout=io.StringIO())


def _session_for(user) -> str:
    """A signed-in session for `user`, as the test client makes one (no sign-in form to drive)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture
def open_page(browser, live_server):
    """open_page(path, width='phone', elder=False) -> Playwright page, screenshot saved under bench/out/screens."""
    pages = []
    violations: list[str] = []

    def _open(path: str, *, width: str = "phone", elder: bool = False, name: str | None = None, user=None):
        context = browser.new_context(viewport={"width": WIDTHS[width], "height": 900}, locale="zh-CN")
        if elder:
            context.add_cookies([{"name": "elder_mode", "value": "1", "url": live_server.url}])
        if user is not None:
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": _session_for(user), "url": live_server.url}]
            )
        page = context.new_page()
        # Chromium reports every Content-Security-Policy refusal on the console ("Refused to execute
        # inline script because it violates the following Content Security Policy directive …").
        page.on(
            "console",
            lambda message: (
                violations.append(f"{path}: {message.text}")
                if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text
                else None
            ),
        )
        page.goto(live_server.url + path)
        page.wait_for_load_state("load")
        assert not violations, violations
        SCREENS.mkdir(parents=True, exist_ok=True)
        label = name or path.strip("/").replace("/", "_") or "home"
        page.screenshot(path=str(SCREENS / f"{label}-{width}{'-elder' if elder else ''}.png"), full_page=True)
        pages.append(context)
        return page

    yield _open
    assert not violations, violations  # also those that happened while a test used the page
    for context in pages:
        context.close()
