#!/usr/bin/env python3
"""Drives the relsim dashboard in a real headless Chromium through chromedriver (WebDriver over
HTTP, standard library only): waits for the first charts, moves a slider with the keyboard,
waits for the charts to change, checks values on the page, tries a bad setting, and saves
screenshots. Usage: dashboard_e2e.py DASHBOARD_URL CHROMEDRIVER_URL OUT_DIR"""

import base64
import json
import sys
import time
import urllib.request

DASHBOARD, DRIVER, OUT = sys.argv[1].rstrip("/"), sys.argv[2].rstrip("/"), sys.argv[3]
ARROW_LEFT = "\ue012"


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(DRIVER + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.load(response)["value"]


session = call("POST", "/session", {"capabilities": {"alwaysMatch": {
    "browserName": "chrome",
    "goog:chromeOptions": {
        "binary": "/usr/bin/chromium",
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,1500"],
    },
}}})["sessionId"]
S = f"/session/{session}"


def script(source, *args):
    return call("POST", S + "/execute/sync", {"script": source, "args": list(args)})


def wait_for(condition, what, timeout=60):
    started = time.time()
    while time.time() - started < timeout:
        value = script(condition)
        if value:
            return value
        time.sleep(0.05)
    state = script("return document.body.dataset.state")
    error = script("return document.getElementById('error').textContent")
    raise SystemExit(f"FAIL: timed out waiting for {what} (page state {state!r}, error {error!r})")


def screenshot(name):
    png = base64.b64decode(call("GET", S + "/screenshot"))
    path = f"{OUT}/{name}"
    with open(path, "wb") as f:
        f.write(png)
    print(f"dashboard e2e: saved {path}")


def cell(strategy, column):
    return script(
        "return document.querySelector(`#summary tr[data-strategy='${arguments[0]}'] "
        "td.${arguments[1]}`).textContent", strategy, column)


def chart_pixels(name):
    return script("return document.querySelector(`#chart-${arguments[0]} canvas`).toDataURL()", name)


failures = []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message)
    if not condition:
        failures.append(message)


try:
    call("POST", S + "/url", {"url": DASHBOARD + "/"})
    wait_for("return document.body.dataset.state === 'done'", "the first full update")
    first_ms = int(script("return document.body.dataset.firstChartMs"))
    full_ms = int(script("return document.body.dataset.fullUpdateMs"))
    print(f"dashboard e2e: first chart after {first_ms} ms, all 16 replications after {full_ms} ms")
    check(first_ms < 5000, f"first curves within 5 s ({first_ms} ms)")
    wait_for("return document.getElementById('story').textContent.startsWith('Customer ')",
             "the story panel")
    before = {s: cell(s, "npv") for s in ("transactional", "relationship", "hybrid")}
    pixels_before = chart_pixels("cumulative_npv")
    updates_before = int(script("return document.body.dataset.updates"))
    screenshot("dashboard-e2e-start.png")

    # Move the relationship strategy's managers slider from 4 to 0 with the keyboard, as a
    # student would after clicking it.
    slider = call("POST", S + "/element", {
        "using": "css selector", "value": "#slider-strategies-1-personal_care_managers"})
    element = list(slider.values())[0]
    call("POST", f"{S}/element/{element}/value", {"text": ARROW_LEFT * 4})
    wait_for("return document.body.dataset.state === 'done' && "
             f"Number(document.body.dataset.updates) > {updates_before} && "
             "document.querySelector(\"output[for='slider-strategies-1-personal_care_managers']\")"
             ".textContent === '0'", "the update after moving the slider")
    after = {s: cell(s, "npv") for s in before}
    shown = script("return document.querySelector(\"output[for='slider-strategies-1-personal_care_managers']\").textContent")
    check(shown == "0", f"the slider shows 0 key-account managers (shows {shown!r})")
    check(after["relationship"] != before["relationship"],
          f"relationship's NPV changed: {before['relationship']} -> {after['relationship']}")
    check(after["transactional"] == before["transactional"],
          f"transactional's NPV did not (common random numbers): {after['transactional']}")
    check(chart_pixels("cumulative_npv") != pixels_before, "the cumulative NPV chart was redrawn")
    address = script("return location.search")
    check("strategies.1.personal_care_managers=0" in address,
          f"the address keeps the settings ({address[:80]}…)")
    download = script("return document.getElementById('download').getAttribute('href')")
    check("strategies.1.personal_care_managers=0" in download, "the download has the settings")
    screenshot("dashboard-e2e.png")

    # A bad value in the address is explained on the page.
    call("POST", S + "/url", {"url": DASHBOARD + "/?market.population=abc"})
    wait_for("return document.body.dataset.state === 'invalid'", "the error for a bad value")
    error = script("return document.getElementById('error').textContent")
    check("market.population" in error and "whole number" in error, f"the page explains: {error}")
    screenshot("dashboard-e2e-error.png")
finally:
    try:
        call("DELETE", S)
    except Exception:  # noqa: BLE001 - the browser may already be gone
        pass

if failures:
    raise SystemExit(f"FAIL: {len(failures)} check(s) failed")
print("dashboard e2e: every check passed")
