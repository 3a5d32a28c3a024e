def test_login_page_is_swedish(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert "Logga in" in page.get_data(as_text=True)
