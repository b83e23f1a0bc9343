"""The shapes of the twenty-first attack on redaction, Wi-Fi passwords as agents set up boards,
laptops and hotspots (each leaked before its rule): a network's QR code text (`WIFI:…;P:…;;`),
a Windows profile exported with its key in clear (`<keyMaterial>`, `Key Content : …`),
macOS's `networksetup -setairportnetwork`, MicroPython's `wifi.connect(ssid, pw)` and
`sta_if.connect`; and Dell's `racadm set iDRAC.Users.2.Password …`. And the same forms
holding no password (kept)."""

from __future__ import annotations

import pytest

from ox_session_capture.testing.redacted import assert_hidden, redacted

PW = "SunnyDayPw9"

LEAKED = [
    (f"qrencode -t ansiutf8 'WIFI:S:HomeWifi;T:WPA;P:{PW};;'", PW),
    (f"WIFI:T:WPA;S:Cafe\\;Net;P:{PW};H:false;;", PW),
    (
        f"<sharedKey><keyType>passPhrase</keyType><protected>false</protected><keyMaterial>{PW}</keyMaterial></sharedKey>",
        PW,
    ),
    (f"    Key Content            : {PW}", PW),
    (f"networksetup -setairportnetwork en0 HomeWifi {PW}", PW),
    (f"networksetup -setairportnetwork en0 \"Home Wifi\" '{PW}'", PW),
    (f'wifi.connect("HomeWifi", "{PW}")', PW),
    (f"sta_if.connect('HomeWifi', '{PW}')", PW),
    (f"racadm set iDRAC.Users.2.Password {PW}", PW),
]

KEPT = [
    "WIFI:T:nopass;S:GuestWifi;;",
    "WIFI:S:HomeWifi;T:WPA;P:$WIFI_PW;;",
    "    Key Content            : Absent",
    "networksetup -setairportnetwork en0 HomeWifi $WIFI_PW",
    "wifi.connect(ssid, password)",
    "racadm set iDRAC.Users.2.Enable 1",
]


@pytest.mark.parametrize(("text", "secret"), LEAKED)
def test_a_wifi_password_of_the_twenty_first_attack_is_redacted(text: str, secret: str) -> None:
    assert_hidden(text, secret)


@pytest.mark.parametrize("text", KEPT)
def test_the_same_forms_without_a_password_are_kept(text: str) -> None:
    assert redacted(text) == text
