"""The hub's own endpoints: health that means it, pages with a strict content security policy."""

from __future__ import annotations

import httpx


def test_health_is_200_when_database_rasa_and_actions_answer(hub):
    response = httpx.get(f"{hub.hub_url}/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": True, "rasa": True, "actions": True}


def test_health_is_503_when_the_action_server_is_down(hub):
    hub.stop_actions()
    try:
        response = httpx.get(f"{hub.hub_url}/healthz", timeout=10)
    finally:
        hub.start_actions()
    assert response.status_code == 503 and response.json()["checks"]["actions"] is False


def test_pages_are_served_with_a_content_security_policy(hub):
    for path in ("/", "/console", "/static/widget.js"):
        response = httpx.get(f"{hub.hub_url}{path}")
        assert response.status_code == 200, path
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"


def test_the_widgets_files_load_on_a_shops_own_domain(hub):
    """The widget is ES modules: a page on another origin may load them only with CORS."""
    for path in ("/static/widget.js", "/static/widget/main.js"):
        response = httpx.get(f"{hub.hub_url}{path}", headers={"Origin": "https://shop.example"})
        assert response.status_code == 200, path
        assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-origin" not in httpx.get(f"{hub.hub_url}/api/me").headers


def test_unknown_paths_are_a_json_404(hub):
    response = httpx.get(f"{hub.hub_url}/nothing-here")
    assert response.status_code == 404 and response.json()["error"]["code"] == "http_404"
