"""Sign-in with Streamlit's own OIDC support (``st.login`` / ``st.user`` / ``st.logout``).

Sign-in is on exactly when ``.streamlit/secrets.toml`` has an ``[auth]`` section: Streamlit then
always gives ``st.user`` an ``is_logged_in`` key (``streamlit/user_info.py``, ``_get_user_info``
adds ``False`` when the section exists and no identity cookie came with the session). Without
it, ``st.user`` has no such key and the app runs for one local user, as before. AppTest
simulates both: ``at.user = {"is_logged_in": True, "email": ...}`` is a signed-in user, its
default ``{"email": "test@example.com"}`` is the local mode.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from recsys.store import LOCAL_OWNER, ModelStore

__all__ = ["current_user", "login_screen", "signin_enabled", "sidebar_account", "store"]


def _user() -> dict[str, Any]:
    try:
        return dict(st.user.to_dict())
    except Exception:  # no script run context (e.g. called from a plain test)
        return {}


def signin_enabled() -> bool:
    """Whether sign-in is configured (an ``[auth]`` section in the secrets)."""
    return "is_logged_in" in _user()


def current_user() -> str | None:
    """The signed-in user's e-mail address; ``None`` in local (single-user) mode."""
    user = _user()
    if not user.get("is_logged_in"):
        return None
    return str(user.get("email") or user.get("sub") or "") or None


def store() -> ModelStore:
    """The model store as the current user sees it (private + team areas when signed in)."""
    return ModelStore(user=current_user())


def login_screen() -> None:
    """With sign-in on and nobody signed in: a login screen and ``st.stop()`` (no page runs)."""
    user = _user()
    if "is_logged_in" not in user or user["is_logged_in"]:
        return
    st.title("Reward-aware recommendations")
    st.info("Sign in to use the dashboard. Your saved models are private unless you share them.")
    if st.button("Sign in", key="login", type="primary", icon=":material/login:"):
        st.login()
    st.stop()


def sidebar_account() -> None:
    """Who is signed in, with a sign-out button (nothing in local mode)."""
    user = current_user()
    if user is None:
        return
    with st.sidebar:
        st.caption(f"Signed in as **{_user().get('name') or user}** ({user})")
        if st.button("Sign out", key="logout", icon=":material/logout:"):
            st.logout()


def owner_label(owner: str) -> str:
    """How a model's owner is shown: "you", the e-mail address, or "local"."""
    me = current_user()
    if me is not None and owner == me:
        return f"you ({owner})"
    return owner or LOCAL_OWNER
