"""The shapes of the sixteenth attack on redaction, from tests agents write and run (each
leaked before its rule): a password typed into a login form by a browser test (Playwright,
Selenium, Cypress, Testing Library, Capybara), a test's `login("user", "…")`, a getter
returning a literal (`def password(): return "…"`). And the same forms holding no literal
password (kept)."""

from __future__ import annotations

import pytest

from ox_session_capture.testing.redacted import assert_hidden, redacted

MIXED = "Tr0ub4dor3xyz"
K = "k9Xq2Lm7Zp4Rt8Vw1Yz3Bc6Df0Gh5Jn8"

LEAKED = [
    (f"await page.fill('#password', '{MIXED}')", MIXED),
    (f"await page.getByLabel('Password').fill('{MIXED}');", MIXED),
    (f"await page.locator('input[type=\"password\"]').pressSequentially('{MIXED}')", MIXED),
    (f'driver.find_element(By.ID, "password").send_keys("{MIXED}")', MIXED),
    (f"cy.get('input[name=password]').type('{MIXED}')", MIXED),
    (f"cy.get('#password').type('{MIXED}{{enter}}')", MIXED),
    (f"fireEvent.change(passwordInput, {{ target: {{ value: '{MIXED}' }} }})", MIXED),
    (f"await userEvent.type(screen.getByLabelText(/password/i), '{MIXED}')", MIXED),
    (f"fill_in 'Password', with: '{MIXED}'", MIXED),
    (f'def test_login(): assert login("admin", "{MIXED}")', MIXED),
    (f"it('logs in', () => login('admin', '{MIXED}'))", MIXED),
    (f'login_as("admin", "{MIXED}")', MIXED),
    (f'@pytest.fixture\ndef password(): return "{MIXED}"', MIXED),
    (f'def get_password(self):\n    return "{MIXED}"', MIXED),
    (f'public String getApiKey() {{ return "{K}"; }}', K),
]

KEPT = [
    "await page.fill('#email', 'admin@acme.io')",
    "cy.get('input[name=password]').type(password)",
    "await page.getByLabel('Password').fill(process.env.PW)",
    "cy.get('#password').type('{enter}')",
    "fireEvent.change(emailInput, { target: { value: 'a@b.io' } })",
    'driver.find_element(By.ID, "password").send_keys(Keys.RETURN)',
    'def password_field(self): return "password"',
    "def get_token(self): return self._token",
    'def token_url(): return "https://x.io/token"',
    'def password_label(): return "Password"',
]


@pytest.mark.parametrize(("text", "secret"), LEAKED)
def test_a_password_of_the_sixteenth_attack_is_redacted(text: str, secret: str) -> None:
    assert_hidden(text, secret)


@pytest.mark.parametrize("text", KEPT)
def test_the_same_forms_without_a_literal_are_kept(text: str) -> None:
    assert redacted(text) == text
