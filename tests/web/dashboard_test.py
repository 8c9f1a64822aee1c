#!/usr/bin/python3
"""The dashboard in headless Chromium, driven by Selenium (run by dashboard_browser_test.cpp, which
starts the daemon with a seeded store and passes what it seeded in --fixture).

Signs in (a wrong token first), sees the held emails, filters by reason, searches an address,
opens a decision's detail, releases an address and removes the override, adds and clears a
suppression (checked with the `safetynet` CLI in between), releases a paused sender, is sent back
to the login by a 401, and finds that a read-only token can change nothing (403 shown). Throughout:
the token is never in a URL, every request stays on the daemon's origin, and each API call carries
it as Authorization: Bearer. Saves a screenshot of the main page. Exit 0 when all holds.
Debian's python3 (/usr/bin/python3) with python3-selenium, chromium and chromium-driver.
"""
import argparse
import json
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

args = None
driver = None
T0 = time.monotonic()


def step(text):
    print(f"[{time.monotonic() - T0:6.2f} s] {text}", flush=True)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def wait_for(fn, what, timeout=30):
    """Waits until fn() is truthy (exceptions count as not yet); returns its value. `what` is said
    on a timeout; a callable is asked then (what the page shows at that moment)."""
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05, ignored_exceptions=(Exception,)).until(
            lambda d: fn())
    except TimeoutException:
        raise AssertionError(f"timed out waiting for: {what() if callable(what) else what}")


def by_id(i):
    return driver.find_element(By.ID, i)


def css(sel, root=None):
    return (root or driver).find_elements(By.CSS_SELECTOR, sel)


def visible(i):
    return by_id(i).is_displayed()


def held_rows():
    return css("#held tbody tr")


def cli(*argv):
    out = subprocess.run([args.safetynet, *argv, "-c", args.config], capture_output=True, text=True, timeout=30)
    check(out.returncode == 0, f"safetynet {' '.join(argv)}: exit {out.returncode}: {out.stderr}")
    return out.stdout


def message(containing):
    """The page's message once it says `containing` (an earlier one may still be shown)."""
    return wait_for(lambda: visible("message") and containing in by_id("message-text").text and by_id("message-text").text,
                    f"a message saying {containing!r}")


def sign_in(token):
    wait_for(lambda: visible("login"), "the login page")
    by_id("token").send_keys(token)
    by_id("sign-in").click()


def sign_out():
    by_id("sign-out").click()
    wait_for(lambda: visible("login"), "the login page after signing out")


def open_tab(name):
    css(f'[data-tab="{name}"]')[0].click()
    wait_for(lambda: visible(f"tab-{name}"), f"the {name} tab")


def held_keys():
    # In one call: the list may be drawn again between two element look-ups.
    return driver.execute_script("return [...document.querySelectorAll('#held tbody tr')].map((r) => r.dataset.key)")


def filter_held(want, since=None, **values):
    """Sets the filters (the others emptied), applies them and waits for exactly `want` (keys)."""
    for field in ("f-reason", "f-rep", "f-connector", "f-address"):
        by_id(field).clear()
    for field, value in values.items():
        by_id(f"f-{field}").send_keys(value)
    if since:
        Select(by_id("f-since")).select_by_value(since)
    by_id("apply").click()
    wait_for(lambda: held_keys() == want, lambda: f"held emails {want} for {values} (the page shows {held_keys()})")


def no_token_anywhere():
    """The token is never in a URL; every request goes to the daemon; the API calls carry it."""
    check(args.token not in driver.current_url and args.read_token not in driver.current_url,
          f"the token is in the address bar: {driver.current_url}")
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] != "Network.requestWillBeSent":
            continue
        req = msg["params"]["request"]
        url = req["url"]
        check(args.token not in url and args.read_token not in url, f"the token is in a request URL: {url}")
        # Over the network only to the daemon (chrome:// and data: are the browser's own).
        if url.split(":")[0] in ("http", "https", "ws", "wss"):
            check(url.startswith(args.url + "/"), f"a request off the daemon's origin: {url}")
        if "/api/v1/" in url:
            auth = {k.lower(): v for k, v in req.get("headers", {}).items()}.get("authorization", "")
            check(auth.startswith("Bearer "), f"an API call without the bearer token: {url}")
    check(driver.execute_script("return localStorage.length") == 0, "something was kept in localStorage")
    check(driver.execute_script("return document.cookie") == "", "a cookie was set")


def wait_until_ready(timeout=20):
    """Until the daemon's first poll has ended (GET /readyz 200): the strip then shows it."""
    end = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(args.url + "/readyz", timeout=5) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        check(time.monotonic() < end, f"the daemon is not ready after {timeout} s")
        time.sleep(0.2)


def run(fixture):
    held = fixture["held"]
    in_week = [h for h in held if h["days_ago"] < 7]
    base = args.url + "/"
    driver.get(base)

    step("a wrong token stays at the login, with why")
    sign_in("not-the-token-0123456789")
    wait_for(lambda: visible("login-message") and "refused" in by_id("login-message").text, "the refusal")
    check(driver.execute_script("return sessionStorage.getItem('safetynet.token')") is None, "a refused token was kept")
    check(not visible("app"), "the app is shown for a wrong token")

    step("sign in with the full token: the held emails of the last 7 days, newest first")
    sign_in(args.token)
    wait_for(lambda: visible("app") and held_keys() == [h["key"] for h in in_week],
             lambda: f"the {len(in_week)} held emails of the week (the page shows {held_keys()})")
    check(by_id("access").text == "full access", by_id("access").text)
    check(driver.execute_script("return sessionStorage.getItem('safetynet.token')") == args.token,
          "the token is not in sessionStorage")
    first = held_rows()[0]
    cells = [c.text for c in css("td", first)]
    check(held[0]["rep"] in cells and held[0]["connector"] in cells and held[0]["address"] in cells
          and held[0]["subject"] in cells and held[0]["reason"] in cells and held[0]["evidence"] in cells,
          f"the first row lacks rep, connector, address, subject, reason or evidence: {cells}")
    # Data is text, never markup: the subject "<img src=x onerror=...>" shows as written.
    odd = next(h for h in held if "<img" in h["subject"])
    check(odd["subject"] in driver.find_element(By.ID, "held").text, "the subject with markup is not shown as text")
    check(odd["address"] in driver.find_element(By.ID, "held").text, "the address with markup is not shown as text")
    check(not css("#held img, #held b"), "markup from the data became elements")

    step("the status strip: fail-safe off, the connector's last successful poll")
    wait_for(lambda: "Fail-safe off" in by_id("status").text, "the fail-safe state")
    chip = f'[data-connector="{fixture["connector"]}"]'
    wait_for(lambda: "s ago" in css(chip)[0].text, lambda: f"the last poll (the strip says: {by_id('status').text})")

    step("the chart: holds per reason per day")
    bars = css("#chart rect.bar")
    check(bars, "no bars in the chart")
    charted = {b.get_attribute("data-reason") for b in bars}
    check(charted == {h["reason"] for h in held}, f"charted reasons {charted}")
    legend = by_id("legend").text
    check("bounce_risk" in legend and "spamtrap" in legend, legend)

    step("screenshot of the main page")
    driver.save_screenshot(args.screenshot)

    step("filter by reason, then over 30 days")
    filter_held([h["key"] for h in in_week if h["reason"] == "spamtrap"], reason="spamtrap")
    filter_held([h["key"] for h in held if h["reason"] == "spamtrap"], since="30d", reason="spamtrap")
    filter_held([h["key"] for h in held if h["connector"] == "salesloft-main"], connector="salesloft-main")
    filter_held([h["key"] for h in held if h["rep"] == "Kim Park"], rep="kim park")

    step("search an address (part of it, any case)")
    want = [h["key"] for h in held if h["address"].startswith("jane.doe@")]
    check(len(want) == 2, "the fixture has two holds for jane.doe@")
    filter_held(want, address="JANE.DOE@ACME")
    filter_held([], address="nobody-at-all")
    check(visible("held-empty"), "no word that nothing matched")

    step("a decision's detail: signals with weights and evidence, actions, notifications")
    filter_held([h["key"] for h in held])
    target = held[0]
    css(f'#held tr[data-key="{target["key"]}"]')[0].click()
    wait_for(lambda: by_id("detail").get_attribute("open") is not None and target["key"] in by_id("detail").text,
             "the detail dialog")
    detail = by_id("detail").text
    for want in (target["subject"], target["signal"], target["evidence"], "decided", "reverted", "slack", "rep"):
        check(want in detail, f"the detail lacks {want!r}: {detail}")
    signal_row = [c.text for c in css(".recipient tbody tr td", by_id("detail"))]
    check(signal_row[:2] == [target["signal"], f"{target['weight']:g}"], f"signal row {signal_row}")
    driver.save_screenshot(args.screenshot.replace(".png", "-detail.png"))

    step("release the held address from the detail, then remove the override")
    css('#detail button[data-action="release"]')[0].click()
    message(target["address"] + " is released")
    by_id("detail-close").click()
    listed = [json.loads(line)["address"] for line in cli("overrides", "--json").splitlines() if line.strip()]
    check(target["address"] in listed, f"the CLI does not list the release: {listed}")
    open_tab("overrides")
    row = f'#overrides tr[data-address="{target["address"]}"]'
    wait_for(lambda: css(row), "the override in the list")
    css(row + " button")[0].click()
    wait_for(lambda: not css(row), "the override gone from the list")
    listed = [json.loads(line)["address"] for line in cli("overrides", "--json").splitlines() if line.strip()]
    check(target["address"] not in listed and fixture["overridden"] in listed, f"overrides after removal: {listed}")

    step("add a suppression, see it in the CLI, clear it")
    open_tab("suppressions")
    wait_for(lambda: css(f'#suppressions tr[data-subject="{fixture["suppressed"]}"]'), "the seeded suppression")
    by_id("s-address").send_keys("New.Person@Prospect.test")
    by_id("s-reason").send_keys("asked us to stop")
    css("#add-suppression button[type=submit]")[0].click()
    row = '#suppressions tr[data-subject="new.person@prospect.test"]'
    wait_for(lambda: css(row), "the new suppression in the list")
    out = cli("suppressions", "--json")
    check('"subject":"new.person@prospect.test"' in out and "asked us to stop" in out, f"the CLI: {out}")
    css(row + " button")[0].click()
    wait_for(lambda: not css(row), "the suppression gone from the list")
    check("new.person@prospect.test" not in cli("suppressions", "--json"), "the CLI still lists the cleared suppression")

    step("release the paused sender")
    open_tab("senders")
    row = f'#senders tr[data-mailbox="{fixture["paused_sender"]}"]'
    wait_for(lambda: css(row) and "paused" in css(row)[0].text, "the paused sender")
    css(row + " button")[0].click()
    wait_for(lambda: css(row) and "active" in css(row)[0].text, "the sender released")
    no_token_anywhere()

    step("a 401 (the token rotated meanwhile) goes back to the login")
    driver.execute_script("sessionStorage.setItem('safetynet.token', 'rotated-away-0123456789')")
    by_id("refresh").click()
    wait_for(lambda: visible("login") and "refused" in by_id("login-message").text, "the login after a 401")
    check(driver.execute_script("return sessionStorage.getItem('safetynet.token')") is None, "the refused token was kept")

    step("the read-only token: sees everything, no write action offered, a forced one is refused (403)")
    sign_in(args.read_token)
    wait_for(lambda: visible("app") and by_id("access").text == "read-only token", "the read-only session")
    wait_for(lambda: held_rows(), "the held emails for the read-only token")
    open_tab("suppressions")
    wait_for(lambda: css(f'#suppressions tr[data-subject="{fixture["suppressed"]}"]'), "the suppressions, read only")
    check(not by_id("add-suppression").is_displayed(), "the add form is offered to the read-only token")
    check(all(b.get_attribute("disabled") is not None and not b.is_displayed() for b in css("#suppressions button")),
          "a Clear button is offered to the read-only token")
    open_tab("held")
    held_rows()[0].click()
    wait_for(lambda: by_id("detail").get_attribute("open") is not None, "the detail, read only")
    check(not [b for b in css("#detail button.write") if b.is_displayed()], "release/suppress offered to the read-only token")
    by_id("detail-close").click()
    # Forced: the form shown and enabled by hand; the API refuses and the page says so.
    open_tab("suppressions")
    driver.execute_script("""
      document.body.classList.remove('read-only');
      for (const c of document.getElementById('add-suppression').elements) c.disabled = false;""")
    by_id("s-address").send_keys("forced@prospect.test")
    css("#add-suppression button[type=submit]")[0].click()
    text = message("the read-only token cannot change anything")
    check("403" in text, f"the 403 is not shown: {text}")
    check("forced@prospect.test" not in cli("suppressions", "--json"), "the read-only token wrote a suppression")
    no_token_anywhere()
    sign_out()
    check(driver.execute_script("return sessionStorage.getItem('safetynet.token')") is None, "signing out kept the token")


def main():
    global args, driver
    p = argparse.ArgumentParser()
    for name in ("url", "token", "read-token", "fixture", "safetynet", "config", "screenshot", "profile"):
        p.add_argument("--" + name, required=True)
    args = p.parse_args()
    with open(args.fixture) as f:
        fixture = json.load(f)
    wait_until_ready()
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1440,1000",
              "--user-data-dir=" + args.profile, "--no-first-run", "--no-default-browser-check",
              # loopback only: none of Chromium's own calls home
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-default-apps", "--disable-extensions", "--metrics-recording-only",
              "--disable-features=Translate,OptimizationHints,MediaRouter"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    ok = False
    try:
        run(fixture)
        ok = True
    except Exception as e:  # noqa: BLE001 (Selenium's own errors too: the page is saved for each)
        print(f"FAILED: {type(e).__name__}: {e}".splitlines()[0], flush=True)
        traceback.print_exc()
        driver.save_screenshot(args.screenshot + ".failed.png")
        print(f"(the page at the failure: {args.screenshot}.failed.png)")
    finally:
        for entry in driver.get_log("browser"):  # the page's own errors, if any
            print("browser console:", entry.get("level"), entry.get("message"))
        driver.quit()
    step("passed" if ok else "failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
