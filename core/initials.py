"""An account's initials badge (docs/rules.md R121): two letters from its
name, and a colour chosen from its id, stable across runs and machines.
Pure functions; the console picks the colours (console/widgets/badges.py)."""

from __future__ import annotations

import unicodedata
import zlib

# When a name has no letter or digit to take.
NO_INITIALS = "?"


def initials(name: str | None) -> str:
    """The first letters of the first two words, or the first two letters of
    a one-word name, uppercase. Words are split on spaces and punctuation;
    letters of any script count (digits too), and a letter with combining marks
    keeps them ("Ærø" gives "ÆR"). The badge is two cells wide: a wide
    letter (Chinese, Japanese, Korean) is taken alone. No letter at all gives "?"."""
    words = _words(name or "")
    if not words:
        return NO_INITIALS
    if len(words) == 1:
        letters = _graphemes(words[0])[:2]
    else:
        letters = [_graphemes(words[0])[0], _graphemes(words[1])[0]]
    if _cells(letters[0]) == 2:
        letters = letters[:1]  # a wide letter (CJK) fills the badge alone
    return "".join(_upper(letter) for letter in letters)


def colour_index(tenant_id: int | str, palette_size: int) -> int:
    """A stable index into a palette of `palette_size` colours: the CRC-32 of
    the id's decimal digits, so the same account has the same colour on every
    run, machine and screen (Python's own hash is salted per process)."""
    if palette_size < 1:
        raise ValueError("palette_size must be at least 1")
    return zlib.crc32(str(tenant_id).strip().encode("ascii", "replace")) % palette_size


def _words(name: str) -> list[str]:
    """Runs of letters and digits (with their combining marks)."""
    words: list[str] = []
    current = ""
    for char in unicodedata.normalize("NFC", name):
        category = unicodedata.category(char)
        if category[0] in "LN" or (category[0] == "M" and current):
            current += char
        elif current:
            words.append(current)
            current = ""
    if current:
        words.append(current)
    return words


def _graphemes(word: str) -> list[str]:
    """A word's letters, each with the combining marks that follow it."""
    letters: list[str] = []
    for char in word:
        if unicodedata.category(char)[0] == "M" and letters:
            letters[-1] += char
        else:
            letters.append(char)
    return letters


def _upper(letter: str) -> str:
    """Uppercase, unless that changes the length ("ß" would become "SS")."""
    upper = letter.upper()
    return upper if len(upper) == len(letter) else letter


def _cells(letter: str) -> int:
    return 2 if unicodedata.east_asian_width(letter[0]) in ("W", "F") else 1
