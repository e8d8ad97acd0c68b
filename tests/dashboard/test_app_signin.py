"""AppTest: sign-in (st.login / st.user) and who sees and deletes which saved model.

``AppTest.user`` is what a run reads as ``st.user`` (streamlit/testing/v1/app_test.py). Its
default, ``{"email": "test@example.com"}``, has no ``is_logged_in`` key: that is a server
without an ``[auth]`` section (Streamlit adds ``is_logged_in`` only when the section exists),
so the app runs in local mode. ``{"is_logged_in": True, "email": ...}`` is a signed-in user;
``{"is_logged_in": False}`` someone who has not signed in yet.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from recsys.data.dataset import load_sample
from recsys.params import ModelParams
from recsys.pipeline import RecommenderPipeline
from recsys.store import ModelStore
from tests.dashboard_fixtures import APP, MODEL_PAGE, STORE_PAGE, TIMEOUT, assert_no_exception

ALICE = {"is_logged_in": True, "name": "Alice", "email": "alice@example.com"}
BOB = {"is_logged_in": True, "name": "Bob", "email": "bob@example.com"}


def app_as(user: dict | None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if user is not None:
        at.user = user
    at.run()
    assert_no_exception(at)
    if page is not None:
        at.switch_page(page).run()
        assert_no_exception(at)
    return at


def captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


def test_apptest_user_is_what_st_user_reads():
    script = "import streamlit as st\nst.write(repr(st.user.to_dict()))\n"
    at = AppTest.from_string(script)
    at.run()
    assert at.markdown[0].value == "{'email': 'test@example.com'}"  # no is_logged_in: no auth
    at = AppTest.from_string(script)
    at.user = ALICE
    at.run()
    assert "'is_logged_in': True" in at.markdown[0].value


def test_without_auth_the_app_runs_for_a_local_user(model_dir: Path):
    at = app_as(None, STORE_PAGE)
    assert "logout" not in [b.key for b in at.button]
    text = captions(at)
    assert "Single-user mode" in text and "sign-in is not configured" in text
    assert str(model_dir) not in text and str(model_dir.resolve()) not in text


def test_signed_out_users_see_only_the_login_screen():
    at = app_as({"is_logged_in": False})
    assert [b.key for b in at.button] == ["login"]
    assert not at.dataframe and not at.get("plotly_chart")
    assert any("Sign in" in i.value for i in at.info)


def _save_from_model_page(at: AppTest, name: str, area: str) -> None:
    at.switch_page(MODEL_PAGE).run()
    at.text_input(key="model_save_name").set_value(name)
    at.radio(key="model_save_area").set_value(area)
    at.button(key="save_model").click().run()
    assert_no_exception(at)
    assert not at.error, [e.value for e in at.error]


@pytest.fixture
def alice_saved(model_dir: Path) -> AppTest:
    at = app_as(ALICE)
    assert any("alice@example.com" in c for c in captions(at).split("  "))
    _save_from_model_page(at, "alice-private", "private")
    _save_from_model_page(at, "alice-team", "team")
    return at


def test_signed_in_user_saves_private_and_team_models(alice_saved: AppTest, model_dir: Path):
    infos = {i.name: i for i in ModelStore(model_dir, user="alice@example.com").list()}
    assert {n: (i.area, i.owner) for n, i in infos.items()} == {
        "alice-private": ("private", "alice@example.com"),
        "alice-team": ("team", "alice@example.com"),
    }
    alice_saved.switch_page(STORE_PAGE).run()
    table = alice_saved.dataframe[0].value.set_index("name")
    assert table.loc["alice-private", "area"] == "private"
    assert table.loc["alice-team", "owner"] == "you (alice@example.com)"
    assert not alice_saved.button(key="delete_model").disabled
    assert str(model_dir.resolve()) not in captions(alice_saved)


def test_another_user_sees_only_team_models_and_cannot_delete_them(
    alice_saved: AppTest, model_dir: Path
):
    bob = app_as(BOB, STORE_PAGE)
    table = bob.dataframe[0].value
    assert table["name"].tolist() == ["alice-team"]  # not alice's private model
    assert table["owner"].tolist() == ["alice@example.com"]  # who saved what
    delete = bob.button(key="delete_model")
    assert delete.disabled and "Only its owner" in delete.proto.help
    assert (model_dir / "alice-team.joblib").is_file()
    # Bob can still load the shared model.
    bob.button(key="load_model").click().run()
    assert any("is now the active model" in s.value for s in bob.success)


def test_unreadable_artifacts_show_their_problem(model_dir: Path):
    pipeline = RecommenderPipeline(ModelParams(n_neighbors=5)).fit(load_sample())
    ModelStore(model_dir).save(pipeline, "ok-model")
    (model_dir / "broken.joblib").write_bytes(b"not a model at all")
    at = app_as(None, STORE_PAGE)
    table = at.dataframe[0].value.set_index("name")
    assert table.loc["broken", "problem"] and not table.loc["ok-model", "problem"]
