"""The operators file (every problem with its line; a bad file is refused
whole and the last good one kept), durations, the failed-login delay and
the host key."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import asyncssh
import pytest

from console.ssh.host_key import load_or_create
from console.ssh.limits import FailedLogins, Limits, Unauthenticated, parse_duration
from console.ssh.operators_file import OperatorsFileError, OperatorsWatcher, parse_key, parse_operators
from core.errors import OperatorError
from core.operator_roles import PREFIX_ENV, OperatorRole, role_name


def key_line(comment: str = "someone@laptop") -> str:
    return asyncssh.generate_private_key("ssh-ed25519", comment=comment).export_public_key().decode().strip()


ALICE = key_line("alice@laptop")
BOB = key_line("bob@desk")


def problems(text: str) -> list[str]:
    with pytest.raises(OperatorsFileError) as refused:
        parse_operators(text, "ops.toml")
    return [str(problem) for problem in refused.value.problems]


def test_a_good_file() -> None:
    config = parse_operators(
        f"""
# the platform team
[[operators]]
name = "alice"
role = "admin"
locale = "da_dk"
keys = ["{ALICE}"]

[[operators]]
name = "bob"
role = "reader"
keys = [
  "{BOB}",
]
"""
    )
    alice, bob = config.operators
    assert (alice.name, alice.role, alice.locale, bob.role, bob.locale) == (
        "alice",
        OperatorRole.admin,
        "da-DK",
        OperatorRole.reader,
        None,
    )
    assert config.operator_for(asyncssh.import_public_key(BOB).public_data) is bob
    assert config.operator_for(asyncssh.import_public_key(key_line()).public_data) is None
    assert alice.keys[0].fingerprint.startswith("SHA256:")
    assert config.roles() == {"alice": OperatorRole.admin, "bob": OperatorRole.reader}


def test_unknown_fields_malformed_and_duplicate_keys_are_reported_with_their_line() -> None:
    text = f"""[[operators]]
name = "alice"
role = "admin"
shell = "/bin/sh"
keys = ["{ALICE}"]

[[operators]]
name = "bob"
role = "reader"
keys = [
  "{BOB}",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAnotakey bob@phone",
  "{ALICE}",
]
"""
    assert problems(text) == [
        "line 4: unknown field 'shell' (fields: name, role, locale, keys)",
        "line 12: malformed key: not a valid ssh-ed25519 public key",
        f"line 13: duplicate key {parse_key(ALICE).fingerprint} (already alice's, line 5)",
    ]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ('name = "Alice"', "line 2: name 'Alice' is not valid"),
        ('name = "al-ice"', "line 2: name 'al-ice' is not valid"),
        (f'name = "{"a" * 42}"', "line 2: name"),
        ('name = "x"\nrole = "root"', "line 3: role 'root' is not valid: admin or reader"),
        ('name = "x"\nlocale = "fr-FR"', "line 3: locale 'fr-FR' is not shipped"),
        (
            'name = "x"\nkeys = ["ssh-ed25519-cert-v01@openssh.com AAAA x"]',
            "line 3: malformed key: certificates are not accepted",
        ),
        ('name = "x"\nkeys = ["from=\\"10.0.0.1\\" ssh-ed25519 AAAA"]', "line 3: malformed key: not a public key line"),
        ('name = "x"\nkeys = "one"', "line 3: keys must be a list"),
    ],
)
def test_each_bad_value_names_its_line(entry: str, expected: str) -> None:
    defaults = {"name": 'name = "x"', "role": 'role = "admin"', "keys": f'keys = ["{ALICE}"]'}
    given = {line.split(" =")[0] for line in entry.splitlines()}
    rest = "\n".join(value for field, value in defaults.items() if field not in given)
    found = problems(f"[[operators]]\n{entry}\n{rest}\n")
    assert any(problem.startswith(expected) for problem in found), found


def test_not_toml_a_missing_field_a_twice_listed_name_and_stray_tables() -> None:
    assert problems('[[operators]]\nname = "alice\n') == ["line 2: not valid TOML: Illegal character '\\n'"]
    assert problems('[[operators]]\nname = "alice"\nrole = "admin"\n') == ["line 1: operator #1 has no 'keys'"]
    twice = f'[[operators]]\nname = "a"\nrole = "admin"\nkeys = []\n[[operators]]\nname = "a"\nrole = "reader"\nkeys = ["{BOB}"]\n'
    assert problems(twice) == ["line 6: operator 'a' is listed twice (first on line 2)"]
    assert problems("[server]\nport = 22\n") == ["line 1: unknown field 'server' (only [[operators]] tables)"]


def test_a_role_name_is_the_prefix_and_the_validated_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PREFIX_ENV, raising=False)
    assert role_name("alice") == "bo_op_alice"
    with pytest.raises(OperatorError):
        role_name('alice"; DROP ROLE postgres; --')
    monkeypatch.setenv(PREFIX_ENV, "Bad-")
    with pytest.raises(OperatorError):
        role_name("alice")


def test_the_watcher_keeps_the_last_good_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "operators.toml"
    path.write_text(f'[[operators]]\nname = "alice"\nrole = "admin"\nkeys = ["{ALICE}"]\n')
    changes = []
    watcher = OperatorsWatcher(path, on_change=changes.append)
    assert watcher.check() is False
    path.write_text(f'[[operators]]\nname = "alice"\nrole = "admin"\nkeys = ["{ALICE}", "{BOB}"]\nsudo = true\n')
    with caplog.at_level(logging.WARNING, logger="console.ssh"):
        assert watcher.check() is False
    assert "line 5: unknown field 'sudo'" in caplog.text
    assert [operator.name for operator in watcher.config.operators] == ["alice"] and not changes
    assert watcher.config.operator_for(asyncssh.import_public_key(BOB).public_data) is None
    path.write_text(f'[[operators]]\nname = "bob"\nrole = "reader"\nkeys = ["{BOB}"]\n')
    os.utime(path, ns=(1, 1))  # a new signature even within the clock's resolution
    assert watcher.check() is True
    assert [operator.name for operator in watcher.config.operators] == ["bob"] and len(changes) == 1
    path.unlink()
    assert watcher.check() is False and watcher.config.operators[0].name == "bob"


def test_durations() -> None:
    assert [parse_duration(text) for text in ("8h", "30m", "45s", "90", "1d", "1.5h")] == [
        28800,
        1800,
        45,
        90,
        86400,
        5400,
    ]
    for bad in ("", "0", "8 hours", "-1h", "h"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_failed_logins_delay_the_next_try_from_that_address() -> None:
    now = [0.0]
    failures = FailedLogins(Limits(failure_delay=1.0, failure_delay_cap=8.0, failure_memory=60.0), clock=lambda: now[0])
    assert failures.delay_for("192.0.2.1") == 0
    delays = []
    for _ in range(6):
        failures.failed("192.0.2.1")
        delays.append(failures.delay_for("192.0.2.1"))
    assert delays == [1, 2, 4, 8, 8, 8]
    assert failures.delay_for("192.0.2.2") == 0
    now[0] = 61.0
    assert failures.delay_for("192.0.2.1") == 0  # forgotten after a quiet minute
    failures.failed("192.0.2.1")
    assert failures.delay_for("192.0.2.1") == 1
    failures.succeeded("192.0.2.1")
    assert failures.delay_for("192.0.2.1") == 0


def test_the_host_key_is_made_once_readable_by_its_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("console.ssh.host_key.data_home", lambda: tmp_path / "data")
    first = load_or_create(None)
    assert first.created and stat.S_IMODE(first.path.stat().st_mode) == 0o600
    assert first.key.get_algorithm() == "ssh-ed25519"
    again = load_or_create(None)
    assert not again.created and again.fingerprint == first.fingerprint
    first.path.chmod(0o644)
    with pytest.raises(OperatorError, match="readable by others"):
        load_or_create(first.path)


def test_connections_waiting_to_log_in_are_counted_in_all_and_per_address() -> None:
    waiting = Unauthenticated(Limits(max_unauthenticated=3, max_unauthenticated_per_address=2))
    assert waiting.admit("198.51.100.1") and waiting.admit("198.51.100.1")
    assert not waiting.admit("198.51.100.1")  # the address's share is taken
    assert waiting.admit("198.51.100.2")
    assert not waiting.admit("198.51.100.3")  # and now everyone's
    waiting.release("198.51.100.1")
    assert waiting.waiting == 2 and waiting.admit("198.51.100.3")
