"""The paywall page of a priced route as a real browser renders it: headless Chromium (Debian
``chromium``; ``make chromium`` installs it) loads the 402 page from a seller under uvicorn on
127.0.0.1 and dumps the rendered DOM, where the price and the resource URL must be found.
Missing, the test fails: it never skips."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest

import fastx402
from asgi_server import running
from chain import Anvil, Token
from test_facilitator import new_facilitator
from test_server import Shop

CHROMIUM_TIMEOUT = 60.0


class ById(HTMLParser):
    """The text inside each element that has an ``id`` (nested ids each get their text)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str | None] = []
        self.text: dict[str, str] = {}
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_title = tag == "title"
        self.stack.append(dict(attrs).get("id"))
        if tag in ("td", "th"):
            self.handle_data(" ")

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False
        if self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        for element in self.stack:
            if element is not None:
                self.text[element] = self.text.get(element, "") + data


def chromium_dom(url: str) -> str:
    """``chromium --headless --dump-dom url``: the DOM after load, as serialized by Chromium.
    Its own session and profile; on timeout its whole process group is killed."""
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail("chromium is missing: run `make chromium` (Debian chromium)")
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--no-proxy-server", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-default-apps", "--disable-dev-shm-usage",
             f"--user-data-dir={profile}", "--dump-dom", url],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True,
            env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": "disabled:"},
        )  # fmt: skip
        try:
            out, err = proc.communicate(timeout=CHROMIUM_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=10)
            pytest.fail(f"chromium did not render {url} within {CHROMIUM_TIMEOUT} s")
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    return out.decode()


@pytest.fixture
def shop_url(usdc: Token, anvil: Anvil) -> Iterator[str]:
    fastx402.register_asset(
        "eip155:31337", usdc.address, usdc.name, usdc.version, 6, symbol="tUSDC"
    )
    shop = Shop(usdc, new_facilitator(anvil))
    with running(shop.app) as url:
        yield url
    assert shop.runs == {}  # a page view never runs the handler


def test_chromium_renders_the_price_and_the_resource(shop_url: str) -> None:
    resource = f"{shop_url}/weather/paris?units=metric"
    dom = chromium_dom(resource)
    page = ById()
    page.feed(dom)
    assert "Payment required" in page.title, dom[:2000]
    assert page.text["resource"].strip() == f"{shop_url}/weather/paris"  # the query is not sold
    assert page.text["description"].strip() == "Weather report"
    prices = " ".join(page.text["prices"].split())
    assert "0.01 tUSDC" in prices and "eip155:31337" in prices, prices
    assert "<script" not in dom.lower()
