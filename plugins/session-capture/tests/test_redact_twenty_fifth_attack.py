"""The shapes of the twenty-fifth attack on redaction, a password a program types for its user
(each leaked before its rule): a password given to `sudo -S` on its input by Python's
`subprocess` (`input='…\\n'`, `communicate(b'…\\n')`, `.stdin.write`), paramiko's
`exec_command('sudo -S …')`, Node's `spawn` and Go's `strings.NewReader`; and a pexpect
script whose prompt is a raw string of a regex (`p.expect(r"[Pp]assword")`). And the same
forms holding no password (kept)."""

from __future__ import annotations

import pytest

from ox_session_capture.testing.redacted import assert_hidden, redacted

PW = "Tr0ub4dor9x"

LEAKED = [
    f"subprocess.run(['sudo', '-S', 'apt', 'update'], input='{PW}\\n', text=True)",
    f'subprocess.run(["sudo", "-S", "systemctl", "restart", "nginx"], input=b"{PW}\\n")',
    f"p = subprocess.Popen(['sudo', '-S', 'ls'], stdin=subprocess.PIPE)\np.communicate(b'{PW}\\n')",
    f'proc = subprocess.Popen(["sudo", "-S", "whoami"], stdin=PIPE, text=True)\n'
    f'proc.stdin.write("{PW}\\n")',
    f"stdin, stdout, stderr = ssh.exec_command('sudo -S apt update')\nstdin.write('{PW}\\n')",
    f"const child = spawn('sudo', ['-S', 'ls']);\nchild.stdin.write('{PW}\\n');",
    f'cmd := exec.Command("sudo", "-S", "ls")\ncmd.Stdin = strings.NewReader("{PW}\\n")',
    f'p.expect(r"[Pp]assword")\np.sendline("{PW}")',
]

KEPT = [
    "subprocess.run(['sudo', '-S', 'ls'], input=password + '\\n', text=True)",
    "subprocess.run(['sudo', '-S', 'ls'], input=f'{password}\\n', text=True)",
    "subprocess.run(['grep', '-S', 'x'], input='hello world\\n', text=True)",
    "subprocess.run(['sort'], input='b\\na\\n', text=True)",
    'p.expect(r"[Pp]assword")\np.sendline(password)',
    'child.expect("Username:")\nchild.sendline("bob")',
]


@pytest.mark.parametrize("text", LEAKED)
def test_a_password_of_the_twenty_fifth_attack_is_redacted(text: str) -> None:
    assert_hidden(text, PW)


@pytest.mark.parametrize("text", KEPT)
def test_the_same_forms_without_a_password_are_kept(text: str) -> None:
    assert redacted(text) == text
