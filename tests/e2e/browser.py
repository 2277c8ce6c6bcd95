"""The dashboard in a real headless Chromium (Debian's `chromium` and `chromedriver`, driven by
Selenium), against the real app served by uvicorn on a free loopback port."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as DriverService
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "output" / "screenshots"
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
    "--lang=en-US",
)
WAIT_SECONDS = 20


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """The app on a loopback port of its own, in a thread; its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the dashboard's server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=WAIT_SECONDS)
        sock.close()


@contextmanager
def chromium(profile: Path) -> Iterator[WebDriver]:
    # Missing browser is a failure, never a skip: deploy/browser.sh installs it (make services).
    for program in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(program) is None:
            pytest.fail(
                f"{program} is missing: run deploy/browser.sh (apt-get install chromium chromium-driver)"
            )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=DriverService(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


class Browser:
    def __init__(self, driver: WebDriver, base: str) -> None:
        self.driver = driver
        self.base = base

    def open(self, page: str) -> None:
        self.driver.get(f"{self.base}/static/{page}")

    def wait(self, condition: Callable[[WebDriver], Any], what: str) -> Any:
        return WebDriverWait(self.driver, WAIT_SECONDS).until(condition, what)

    def element(self, css: str) -> WebElement:
        return self.wait(lambda d: _displayed(d, css), f"{css} shown")

    def elements(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str, contains: str) -> WebElement:
        """The first element matching `css` once its text contains `contains`."""

        def found(driver: WebDriver) -> WebElement | bool:
            for element in driver.find_elements(By.CSS_SELECTOR, css):
                if contains in element.text:
                    return element
            return False

        return self.wait(found, f"{css} containing {contains!r}")

    def chart(self, container: str) -> WebElement:
        """The canvas ECharts drew into the container, once it has a size."""
        return self.wait(
            lambda d: next(
                (c for c in d.find_elements(By.CSS_SELECTOR, f"{container} canvas") if c.size["width"] > 100),
                False,
            ),
            f"a chart canvas in {container}",
        )

    def sign_in(self, secret: str) -> None:
        self.open("index.html")
        self.driver.execute_script("sessionStorage.clear()")
        self.open("index.html")
        self.element("#token").send_keys(secret)
        self.element("#login button[type=submit]").click()
        self.wait(lambda d: "index.html" not in d.current_url, "left the login page")
        self.element("nav.top .who")

    def screenshot(self, name: str) -> Path:
        """The whole page (the viewport grown to its height, up to 4000 px), kept as a CI artifact."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        metrics = {"width": 1400, "height": max(800, min(int(height), 4000)), "deviceScaleFactor": 1}
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "mobile": False})
        time.sleep(0.3)  # ECharts redraws on resize, after an animation frame
        path = SCREENSHOTS / f"{name}.png"
        try:
            self.driver.save_screenshot(str(path))
        finally:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        return path

    def foreign_requests(self) -> list[str]:
        """Every resource the page loaded from anywhere but this server."""
        names: list[str] = self.driver.execute_script(
            "return performance.getEntriesByType('resource').map((e) => e.name)"
        )
        return [name for name in names if not name.startswith(self.base)]

    def script_errors(self) -> list[str]:
        """Errors the pages' scripts raised (a refused request is logged too, and is not one)."""
        return [
            entry["message"]
            for entry in self.driver.get_log("browser")
            if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]
        ]


def _displayed(driver: WebDriver, css: str) -> WebElement | bool:
    for element in driver.find_elements(By.CSS_SELECTOR, css):
        if element.is_displayed():
            return element
    return False
