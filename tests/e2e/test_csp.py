"""The map page under the app's Content-Security-Policy: nothing it needs is blocked."""
from __future__ import annotations

import pytest

from tests.e2e.mapdriver import labels, open_map, sign_in

pytestmark = pytest.mark.e2e


def test_map_page_raises_no_csp_violation(browser, served, artifacts, people):
    """``served`` is ``gridmap serve`` (the headers production sends); ``browser`` is the
    e2e session's headless Chromium."""
    url = f"http://127.0.0.1:{served}/"
    context = browser.new_context(viewport={"width": 1280, "height": 800}, has_touch=True)
    try:
        page = context.new_page()
        messages, errors = [], []
        page.on("console", lambda m: messages.append(m.text))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.add_init_script("""
            window.__violations = [];
            document.addEventListener('securitypolicyviolation', e =>
                window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
        """)
        sign_in(page, url.rstrip("/"), "t-admin", people["t-admin"].password)
        with page.expect_response(url) as first:
            open_map(page, url.rstrip("/"))
        assert "default-src 'self'" in first.value.headers["content-security-policy"]
        assert labels(page)  # the page drew its grids and placed their labels
        violations = page.evaluate("window.__violations")
        page.screenshot(path=str(artifacts / "map-under-csp.png"))
    finally:
        context.close()
    assert violations == [] and errors == []
    assert not [m for m in messages if "Content Security Policy" in m]
