"""`govarchive serve` in a real browser: headless Chromium (Debian's chromium + chromedriver) types
科技 into the search, gets the documents the CLI finds, opens a document page, follows a diff link
and saves screenshots; the feeds are read by feedparser. The DOM is checked, not only statuses.

CI installs Chromium (.ci/run); elsewhere this module runs where /usr/bin/chromium is present."""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from archive.search import search
from tests.helpers import Archive, control
from tests.crawl import ENV, ROOT, crawl

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
if not (CHROMIUM and DRIVER):
    pytest.skip("browser tests need Chromium: apt install chromium chromium-driver fonts-noto-cjk",
                allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """An archive of linyi_kjj in both epochs, served by `govarchive serve` on a free port."""
    from seeds.replica.server import ReplicaServer
    db = tmp_path_factory.mktemp("served") / "govarchive.db"
    with ReplicaServer(port=0) as srv:
        crawl("linyi_kjj", srv, db)
        control(srv, "state", {"epoch": 2})
        crawl("linyi_kjj", srv, db)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "archive.cli", "serve", "--db", str(db), "--port", str(port)],
                            cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:          # until the server answers (or the time is up)
        try:
            urllib.request.urlopen(base + "/-/search", timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("govarchive serve exited")
            time.sleep(0.2)
    try:
        yield {"db": db, "base": base}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1280,1600"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=opts)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(browser, element_id: str):
    """The element, once the page that has it has loaded (a click does not wait for navigation)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(browser, 60).until(EC.presence_of_element_located((By.ID, element_id)))


def test_search_document_and_diff_in_a_browser(served, browser, tmp_path):
    from selenium.webdriver.common.by import By
    base = served["base"]
    browser.get(base + "/-/search")
    box = browser.find_element(By.ID, "q")
    box.send_keys("科技")
    browser.find_element(By.ID, "go").click()
    wait_for(browser, "count")
    shown = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".hit .url")]
    with Archive(served["db"], readonly=True) as a:
        want = [h["url"] for h in search(a, "科技", limit=50)]
    assert shown and shown == want
    assert browser.find_elements(By.CSS_SELECTOR, ".snippet mark")
    browser.save_screenshot(str(tmp_path / "search.png"))

    browser.find_elements(By.CSS_SELECTOR, ".hit a.result")[0].click()
    wait_for(browser, "title")
    with Archive(served["db"], readonly=True) as a:
        latest = a.version(want[0], content=True)
        from seeds.replica import site
        amended = next(d.url for d in site.documents() if d.amended and d.portal == "linyi_kjj")
    assert browser.find_element(By.ID, "title").text == latest["title"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "table.meta tr")) >= 5
    paras = browser.find_elements(By.CSS_SELECTOR, ".text p")
    assert [p.text for p in paras] == [x for x in latest["text"].split("\n") if x]
    browser.save_screenshot(str(tmp_path / "document.png"))

    from urllib.parse import quote
    browser.get(f"{base}/-/document?url={quote(amended, safe='')}")
    browser.find_element(By.CSS_SELECTOR, "a.diff-link").click()
    assert wait_for(browser, "diff").text.startswith("diff 1 → 2")
    assert browser.find_elements(By.CSS_SELECTOR, "table.diff ins")
    browser.save_screenshot(str(tmp_path / "diff.png"))

    browser.get(base + "/govarchive/versions?_size=3")
    cell = browser.find_elements(By.CSS_SELECTOR, "td .ga-text p")
    assert cell and cell[0].size["width"] > 300            # a readable column, not four characters wide
    browser.save_screenshot(str(tmp_path / "versions.png"))
    for name in ("search", "document", "diff", "versions"):
        assert (tmp_path / f"{name}.png").stat().st_size > 5000


def test_feeds_are_valid_atom_and_json_feed(served, tmp_path):
    import json

    import feedparser
    from click.testing import CliRunner
    from archive.cli import main
    base = served["base"]
    with Archive(served["db"], readonly=True) as a:
        changes = a.changes("1970-01-01", site="linyi_kjj", kind="cppcc_reply")
    served_atom = urllib.request.urlopen(base + "/-/feeds/linyi_kjj/cppcc_reply.atom", timeout=30).read()
    cli_atom = CliRunner().invoke(main, ["feed", "--db", str(served["db"]), "--site", "linyi_kjj", "--kind",
                                         "cppcc_reply", "--since", "1970-01-01", "--base-url", base]).output
    for raw in (served_atom, cli_atom.encode()):
        f = feedparser.parse(raw)
        assert not f.bozo, f.bozo_exception
        assert f.version == "atom10" and len(f.entries) == len(changes) > 0
        assert all("/-/document?url=" in e.link and e.summary and e.updated for e in f.entries)
        assert {t.term for e in f.entries for t in e.tags} >= {"changed", "linyi_kjj"}
    jf = json.loads(urllib.request.urlopen(base + "/-/feeds/linyi_kjj.json", timeout=30).read())
    assert jf["version"] == "https://jsonfeed.org/version/1.1" and jf["items"]
    assert all(i["id"] and i["url"] and i["date_published"] for i in jf["items"])
