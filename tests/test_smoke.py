def test_login_page_is_swedish(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert "Logga in" in page.get_data(as_text=True)


def test_pages_forbid_framing_inline_scripts_and_caching(client):
    page = client.get("/login")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert "script-src" not in page.headers["Content-Security-Policy"]  # default-src 'self'
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Cache-Control"] == "no-store"


def test_healthz_answers_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
