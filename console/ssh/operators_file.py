"""The operators file: who may log in over SSH, with which keys, as admin or
reader (TOML):

    [[operators]]
    name = "alice"            # shown in the header, recorded in the audit trail
    role = "admin"            # or "reader"
    locale = "da-DK"          # optional
    keys = ["ssh-ed25519 AAAA... alice@laptop"]

Every problem is reported with the line it is on (tomllib gives no
positions: the offending value is looked up in the text, within its
operator's table), and a file with any problem is refused whole, so a typo
can never let anyone in. `OperatorsWatcher` re-reads the file when it
changes and keeps the last good configuration when the new one is bad.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from core.errors import OperatorError
from core.operator_roles import NAME_RULE, OperatorRole, role_name, valid_name
from core.settings import normalize_locale

log = logging.getLogger("console.ssh")

FIELDS = ("name", "role", "locale", "keys")
REQUIRED = ("name", "role", "keys")
# One line of an authorized_keys file without options: type, base64, comment.
KEY_SHAPE = re.compile(r"(?P<type>[a-z0-9@.-]+) (?P<blob>[A-Za-z0-9+/]+={0,2})(?: [^\r\n]*)?\Z")
MIN_RSA_BITS = 2048
OPERATORS_HEADER = re.compile(r"^\s*\[\[\s*(?:operators|\"operators\"|'operators')\s*\]\]")


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class OperatorsFileError(OperatorError):
    """The file is refused; `problems` says where and why."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(str(problem) for problem in problems))


@dataclass(frozen=True)
class OperatorKey:
    public_data: bytes  # the key as SSH sends it: what a client's key is matched on
    algorithm: str
    fingerprint: str  # SHA256:...


@dataclass(frozen=True)
class Operator:
    name: str
    role: OperatorRole
    locale: str | None
    keys: tuple[OperatorKey, ...]

    @property
    def db_role(self) -> str:
        return role_name(self.name)


@dataclass(frozen=True)
class OperatorsConfig:
    operators: tuple[Operator, ...] = ()
    _by_key: dict[bytes, Operator] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, operators: list[Operator]) -> OperatorsConfig:
        return cls(tuple(operators), {key.public_data: operator for operator in operators for key in operator.keys})

    def operator_for(self, public_data: bytes) -> Operator | None:
        return self._by_key.get(public_data)

    def roles(self) -> dict[str, OperatorRole]:
        return {operator.name: operator.role for operator in self.operators}


# -- finding lines ---------------------------------------------------------------------


class _Lines:
    """Where things are in the file's text: each operator's table, a field
    in it, a value in it."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        starts = [number for number, line in enumerate(self.lines, 1) if OPERATORS_HEADER.match(line)]
        ends = [*starts[1:], len(self.lines) + 1]
        self.spans = list(zip(starts, ends, strict=False))

    def span(self, index: int) -> tuple[int, int]:
        if index < len(self.spans):
            return self.spans[index]
        return (1, len(self.lines) + 1)  # operators written inline: the whole file

    def of_text(self, index: int, needle: str) -> int:
        start, end = self.span(index)
        for number in range(start, end):
            if needle and needle in self.lines[number - 1]:
                return number
        return start

    def of_field(self, index: int, name: str) -> int:
        pattern = re.compile(rf"^\s*[\"']?{re.escape(name)}[\"']?\s*=")
        start, end = self.span(index)
        for number in range(start, end):
            if pattern.match(self.lines[number - 1]):
                return number
        return self.of_text(index, name)


# -- parsing -------------------------------------------------------------------------


def _toml_problem(error: tomllib.TOMLDecodeError) -> Problem:
    match = re.search(r"\(at line (\d+), column \d+\)", str(error))
    message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error)) or "not valid TOML"
    return Problem(int(match.group(1)) if match else 1, f"not valid TOML: {message}")


def parse_key(value: str) -> OperatorKey:
    """One public key in OpenSSH's one-line form; ValueError says what is wrong."""
    shape = KEY_SHAPE.match(value.strip())
    if shape is None:
        raise ValueError("not a public key line (type, base64 key, optional comment)")
    declared = shape.group("type")
    if declared.endswith("-cert-v01@openssh.com"):
        raise ValueError("certificates are not accepted; give the public key")
    try:
        key = asyncssh.import_public_key(f"{declared} {shape.group('blob')}")
    except (asyncssh.KeyImportError, ValueError):
        raise ValueError(f"not a valid {declared} public key") from None
    if key.get_algorithm() != declared:
        raise ValueError(f"the key is {key.get_algorithm()}, not {declared}")
    pyca = getattr(key, "pyca_key", None)
    if declared == "ssh-rsa" and getattr(pyca, "key_size", MIN_RSA_BITS) < MIN_RSA_BITS:
        raise ValueError(f"RSA keys need at least {MIN_RSA_BITS} bits")
    return OperatorKey(key.public_data, declared, key.get_fingerprint("sha256"))


def _key_needle(value: str) -> str:
    """What to look for to find a key's line: its base64 part, else its start."""
    parts = value.split()
    return (parts[1] if len(parts) > 1 else value.strip())[:40]


def _check_operator(
    index: int,
    entry: object,
    lines: _Lines,
    problems: list[Problem],
    names: dict[str, int],
    keys: dict[bytes, tuple[str, int]],
) -> Operator | None:
    if not isinstance(entry, dict):
        problems.append(Problem(lines.span(index)[0], "an operator must be a table ([[operators]])"))
        return None
    found = len(problems)
    for key in entry:
        if key not in FIELDS:
            problems.append(Problem(lines.of_field(index, key), f"unknown field {key!r} (fields: {', '.join(FIELDS)})"))
    for key in REQUIRED:
        if key not in entry:
            problems.append(Problem(lines.span(index)[0], f"operator #{index + 1} has no {key!r}"))
    name, role, locale, raw_keys = entry.get("name"), entry.get("role"), entry.get("locale"), entry.get("keys")
    if name is not None:
        if not isinstance(name, str) or not valid_name(name):
            problems.append(Problem(lines.of_field(index, "name"), f"name {name!r} is not valid: {NAME_RULE}"))
        elif name in names:
            problems.append(
                Problem(
                    lines.of_field(index, "name"), f"operator {name!r} is listed twice (first on line {names[name]})"
                )
            )
        else:
            names[name] = lines.of_field(index, "name")
    if role is not None and role not in {member.value for member in OperatorRole}:
        problems.append(Problem(lines.of_field(index, "role"), f"role {role!r} is not valid: admin or reader"))
    normalized = None
    if locale is not None:
        normalized = normalize_locale(locale) if isinstance(locale, str) else None
        if normalized is None:
            problems.append(
                Problem(lines.of_field(index, "locale"), f"locale {locale!r} is not shipped: en-US or da-DK")
            )
    parsed: list[OperatorKey] = []
    if raw_keys is not None and not isinstance(raw_keys, list):
        problems.append(Problem(lines.of_field(index, "keys"), "keys must be a list of public key lines"))
    for value in raw_keys if isinstance(raw_keys, list) else []:
        line = lines.of_text(index, _key_needle(value)) if isinstance(value, str) else lines.of_field(index, "keys")
        if not isinstance(value, str):
            problems.append(Problem(line, "a key must be a string"))
            continue
        try:
            key = parse_key(value)
        except ValueError as error:
            problems.append(Problem(line, f"malformed key: {error}"))
            continue
        if key.public_data in keys:
            owner, first = keys[key.public_data]
            problems.append(Problem(line, f"duplicate key {key.fingerprint} (already {owner}'s, line {first})"))
            continue
        keys[key.public_data] = (str(name), line)
        parsed.append(key)
    if len(problems) > found:
        return None
    return Operator(str(name), OperatorRole(str(role)), normalized, tuple(parsed))


def parse_operators(text: str, source: str = "operators file") -> OperatorsConfig:
    """The configuration, or OperatorsFileError with every problem found."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise OperatorsFileError(source, [_toml_problem(error)]) from None
    lines = _Lines(text)
    problems: list[Problem] = []
    for key in document:
        if key != "operators":
            problems.append(Problem(_top_level_line(lines, key), f"unknown field {key!r} (only [[operators]] tables)"))
    entries = document.get("operators", [])
    if not isinstance(entries, list):
        problems.append(
            Problem(_top_level_line(lines, "operators"), "operators must be an array of tables ([[operators]])")
        )
        entries = []
    names: dict[str, int] = {}
    keys: dict[bytes, tuple[str, int]] = {}
    operators = [_check_operator(index, entry, lines, problems, names, keys) for index, entry in enumerate(entries)]
    if problems:
        raise OperatorsFileError(source, sorted(problems, key=lambda problem: problem.line))
    return OperatorsConfig.of([operator for operator in operators if operator is not None])


def _top_level_line(lines: _Lines, key: str) -> int:
    pattern = re.compile(rf"^\s*(\[\s*)?[\"']?{re.escape(key)}[\"']?\s*(=|\])")
    for number, line in enumerate(lines.lines, 1):
        if pattern.match(line):
            return number
    return 1


def load_operators(path: Path) -> OperatorsConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise OperatorError(f"cannot read the operators file {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise OperatorsFileError(str(path), [Problem(1, "not UTF-8 text")]) from None
    return parse_operators(text, str(path))


# -- watching ----------------------------------------------------------------------------


def _signature(path: Path) -> tuple[int, int, int] | None:
    """What changes when the file does (an editor's rename included)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


class OperatorsWatcher:
    """The current configuration of one file: `check()` re-reads it when it
    changed since the last look (`reload()` whatever), and keeps the last
    good configuration when the new text is refused."""

    def __init__(self, path: Path, on_change: Callable[[OperatorsConfig], None] | None = None) -> None:
        self.path = path
        self.on_change = on_change
        self._signature = _signature(path)
        self.config = load_operators(path)  # the first read must succeed: no config, no server

    def check(self) -> bool:
        """True when a new configuration took effect."""
        if _signature(self.path) == self._signature:
            return False
        return self.reload()

    def reload(self) -> bool:
        self._signature = _signature(self.path)
        try:
            config = load_operators(self.path)
        except OperatorError as error:
            log.warning("operators file refused, keeping the previous configuration: %s", error)
            return False
        self.config = config
        log.info("operators file reloaded: %d operator(s)", len(config.operators))
        if self.on_change is not None:
            self.on_change(config)
        return True

    def __iter__(self) -> Iterator[Operator]:
        return iter(self.config.operators)
