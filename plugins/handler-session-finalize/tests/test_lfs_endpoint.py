"""Which `.lfsconfig` pauses LFS publishing (`lfs_endpoint.refusal`): a pure rule, checked
over generated configs (the real git-lfs cases are in test_hostile_remote.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ox_handler_session_finalize.lfs_endpoint import UNREAD, config_values, push_url, refusal

URLS = st.sampled_from(["https://lfs.team/x", "http://127.0.0.1:9/evil", "file:///tmp/o"])
ENDPOINT = st.sampled_from(
    [
        "lfs.url",
        "lfs.pushurl",
        "remote.origin.lfsurl",
        "remote.origin.lfspushurl",
        "remote.other.lfsurl",
    ]
)
HARMLESS = st.sampled_from(
    [
        "lfs.fetchinclude",
        "lfs.locksverify",
        "remote.origin.url",
        "remote.origin.pushurl",
        "lfs.extension.x.clean",
        "lfs.https://lfs.team/x.access",
    ]
)


@given(st.dictionaries(HARMLESS, URLS), st.dictionaries(ENDPOINT, URLS))
def test_a_git_config_endpoint_outranks_any_lfsconfig_endpoint(
    lfsconfig: dict[str, str], git_urls: dict[str, str]
) -> None:
    pinned = {**git_urls, "lfs.url": "https://lfs.team/x"}
    assert refusal("/l", pinned, lfsconfig, "origin") == ""
    assert refusal("/l", pinned, {UNREAD: ""}, "origin") == ""


@given(st.dictionaries(HARMLESS, URLS), st.dictionaries(ENDPOINT, URLS, min_size=1))
def test_an_endpoint_only_lfsconfig_names_pauses_and_names_it(
    harmless: dict[str, str], named: dict[str, str]
) -> None:
    why = refusal("/l", {}, {**harmless, **named}, "origin")
    shown = push_url(named, "origin") or next(iter(named.values()))
    assert why.endswith(f"git -C /l config lfs.url {shown}")


@given(st.dictionaries(HARMLESS, URLS))
def test_keys_git_lfs_ignores_in_lfsconfig_never_pause(lfsconfig: dict[str, str]) -> None:
    assert refusal("/l", {}, lfsconfig, "origin") == ""


def test_an_extension_priority_pauses_even_with_a_pinned_endpoint() -> None:
    why = refusal("/l", {"lfs.url": "https://lfs.team/x"}, {"lfs.extension.e.priority": "0"}, None)
    assert "lfs.extension.e.priority" in why


def test_a_hostile_url_is_never_shown_raw() -> None:
    why = refusal("/l", {}, {"lfs.url": "http://x/\x1b[2J;rm -rf ~"}, None)
    assert "\x1b" not in why
    assert "'http://x/\\x1b[2J;rm -rf ~'" in why


def test_config_values_keeps_the_last_value_of_a_key() -> None:
    out = "lfs.url\nhttp://a\0LFS.URL\nhttp://b\0remote.origin.lfsurl\nhttp://c\0"
    assert config_values(out) == {"lfs.url": "http://b", "remote.origin.lfsurl": "http://c"}
