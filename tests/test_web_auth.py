"""The sign-in and sign-out routes over HTTP (Starlette's TestClient against the real routes and a
real demo database): status codes, the cookie's attributes, the limits, where the browser goes."""

from __future__ import annotations

import datetime as dt

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from sessionlens.auth import DEMO_PASSWORD
from sessionlens.settings import get_settings
from web import auth as web_auth
from web import db as web_db

ADMIN = "dana.whitfield@northwind.example"


@pytest.fixture
def client(app_db, monkeypatch, request):
    mode = getattr(request, "param", "local")
    monkeypatch.setenv("SESSIONLENS_AUTH", mode)
    get_settings.cache_clear()
    web_db.sessionmaker_for.cache_clear()
    with TestClient(Starlette(routes=web_auth.routes()), base_url="http://127.0.0.1") as c:
        yield c
    get_settings.cache_clear()


def _post(client, email=ADMIN, password=DEMO_PASSWORD, next_path="/"):
    return client.post(
        "/auth/sign-in",
        data={"email": email, "password": password, "next": next_path},
        follow_redirects=False,
    )


def test_the_form_is_plain_and_keeps_the_next_address_escaped(client):
    res = client.get("/auth/sign-in", params={"next": '/?session=5"><script>x</script>'})
    assert res.status_code == 200 and "Sign in to Sessionlens" in res.text
    assert "<script>x" not in res.text and 'name="password" type="password"' in res.text
    # no mail is sent from here: the form says who resets a forgotten password
    assert "Forgot your password? An administrator of your workspace resets it" in res.text


def test_the_right_password_sets_a_guarded_cookie_and_goes_where_asked(client):
    res = _post(client, next_path="/customer?customer=3")
    assert res.status_code == 303 and res.headers["location"] == "/customer?customer=3"
    cookie = res.headers["set-cookie"].lower()
    assert cookie.startswith("sessionlens_auth=") and "httponly" in cookie
    assert "samesite=lax" in cookie and "max-age=604800" in cookie and "path=/" in cookie
    assert DEMO_PASSWORD not in res.headers["location"] + res.headers["set-cookie"]


def test_another_site_after_sign_in_becomes_home(client):
    assert _post(client, next_path="//evil.example/x").headers["location"] == "/"
    assert _post(client, next_path="https://evil.example").headers["location"] == "/"


def test_wrong_passwords_are_named_then_limited(client):
    for _ in range(5):
        res = _post(client, email="grace.kim@northwind.example", password="nope")
        assert res.status_code == 401 and "The email or the password is wrong" in res.text
        assert 'value="grace.kim@northwind.example"' in res.text  # the email stays typed
    res = _post(client, email="grace.kim@northwind.example")  # the right one, too late
    assert res.status_code == 429 and "Too many attempts, try again in" in res.text
    assert "set-cookie" not in res.headers


def test_sign_out_ends_the_cookie_and_every_session_of_the_user(client, app_db):
    from sqlalchemy.orm import Session

    from sessionlens import auth
    from tests.appdb import token_for

    token = token_for(app_db, "luis.ortega@northwind.example")
    client.cookies.set("sessionlens_auth", token)
    res = client.get("/auth/sign-out", follow_redirects=False)
    assert res.status_code == 303 and res.headers["location"] == "/auth/sign-in"
    assert (
        'sessionlens_auth=""' in res.headers["set-cookie"]
        or "max-age=0" in res.headers["set-cookie"].lower()
    )
    import datetime as dt

    with Session(app_db) as db:
        assert (
            auth.actor_from_token(
                db,
                token,
                secret=auth.app_secret(),
                now=dt.datetime.now(dt.UTC),
            )
            is None
        )


@pytest.mark.parametrize("client", ["oidc", "header"], indirect=True)
def test_the_password_form_is_off_in_the_other_modes(client):
    assert client.get("/auth/sign-in").status_code == 404
    assert _post(client).status_code == 404


def test_the_form_names_the_demo_admin_while_the_demo_password_still_works(client):
    """A first look after `make run`: the form says how to sign in to the demo data (that these
    work is test_the_right_password_sets_a_guarded_cookie_and_goes_where_asked)."""
    res = client.get("/auth/sign-in")
    assert f"Demo data: sign in as <b>{ADMIN}</b> with the password <b>{DEMO_PASSWORD}</b>" in (
        res.text
    )


def test_while_the_database_is_away_the_form_says_so(monkeypatch):
    """Postgres is down, restarting or the URL names no database: the sign-in page (and a sign-in
    sent anyway) is the form with the reason and the email kept, 503 with Retry-After, not
    Starlette's plain-text "Internal Server Error"."""
    from sessionlens.errors import DATABASE_UNAVAILABLE
    from tests import appdb

    monkeypatch.setenv("SESSIONLENS_DATABASE_URL", appdb.missing_database_url())
    monkeypatch.setenv("SESSIONLENS_AUTH", "local")
    get_settings.cache_clear()
    web_db.sessionmaker_for.cache_clear()
    try:
        with TestClient(Starlette(routes=web_auth.routes()), base_url="http://127.0.0.1") as c:
            for res in (c.get("/auth/sign-in"), _post(c, email="grace.kim@northwind.example")):
                assert res.status_code == 503 and res.headers["retry-after"] == "5"
                assert DATABASE_UNAVAILABLE in res.text
                assert 'name="password" type="password"' in res.text  # the form, to try again
                assert appdb.MISSING_DB not in res.text
            assert 'value="grace.kim@northwind.example"' in res.text
    finally:
        get_settings.cache_clear()
        web_db.sessionmaker_for.cache_clear()


def test_a_signed_in_user_changes_their_password_through_the_form(app_db, monkeypatch):
    """The sidebar's "Change password" opens /auth/password: the current password and the new one
    twice, in a POST like the sign-in's, never through Streamlit. A refusal is the form again
    with the reason; success keeps this browser signed in with a new cookie, signs every other
    browser out and the new password signs in. Nobody signed in is sent to sign in first."""
    from sqlalchemy.orm import Session

    from sessionlens import auth
    from tests.appdb import token_for

    monkeypatch.setenv("SESSIONLENS_AUTH", "local")
    get_settings.cache_clear()
    web_db.sessionmaker_for.cache_clear()
    kenji = "kenji.sato@northwind.example"
    app = Starlette(routes=web_auth.routes())
    with TestClient(app, base_url="http://127.0.0.1", client=("10.7.7.7", 1)) as c:
        res = c.get("/auth/password", follow_redirects=False)
        assert res.status_code == 303
        assert res.headers["location"] == "/auth/sign-in?next=%2Fauth%2Fpassword"

        token = token_for(app_db, kenji)
        elsewhere = token_for(app_db, kenji)  # another browser of Kenji's
        c.cookies.set("sessionlens_auth", token)
        form = c.get("/auth/password")
        assert form.status_code == 200 and "Signed in as Kenji Sato (kenji.sato@" in form.text
        assert 'name="current" type="password"' in form.text

        def post(current, new, repeated=None):
            return c.post(
                "/auth/password",
                data={"current": current, "new": new, "repeated": repeated or new},
                follow_redirects=False,
            )

        res = post("not it at all", "my own password 1")
        assert res.status_code == 422 and "The current password is wrong" in res.text
        assert 'name="current" type="password"' in res.text and "set-cookie" not in res.headers
        res = post(DEMO_PASSWORD, "short")
        assert res.status_code == 422 and "at least 10 characters" in res.text
        res = post(DEMO_PASSWORD, "my own password 1", "my own password 2")
        assert "The new password and its repetition differ" in res.text

        res = post(DEMO_PASSWORD, "my own password 1")
        assert res.status_code == 200 and "Your password is changed" in res.text
        fresh = res.headers["set-cookie"].split(";")[0].removeprefix("sessionlens_auth=")
        assert fresh and fresh != token and "httponly" in res.headers["set-cookie"].lower()
        assert "my own password" not in res.headers["set-cookie"] + res.text
        now = dt.datetime.now(dt.UTC)
        with Session(app_db) as db:
            secret = auth.app_secret()
            assert auth.actor_from_token(db, fresh, secret=secret, now=now).name == "Kenji Sato"
            assert auth.actor_from_token(db, elsewhere, secret=secret, now=now) is None
        assert _post(c, email=kenji, password="my own password 1").status_code == 303
        assert _post(c, email=kenji, password=DEMO_PASSWORD).status_code == 401
    get_settings.cache_clear()


@pytest.mark.parametrize("client", ["oidc", "header"], indirect=True)
def test_the_password_change_is_off_where_passwords_are_not_ours(client):
    assert client.get("/auth/password").status_code == 404
    assert client.post("/auth/password", data={"current": "x"}).status_code == 404
