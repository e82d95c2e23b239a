"""The benchmark dataset's name follows the generator's code, not its docs."""

from __future__ import annotations

import ast

import pytest

from bench import dataset


def _digest(source: str) -> str:
    return ast.dump(dataset._without_docstrings(ast.parse(source)))


def test_a_docstring_or_comment_leaves_the_fingerprint_and_code_changes_it() -> None:
    code = 'def f(x):\n    """Old words."""\n    return x + 1  # one\n'
    reworded = '"""A module."""\n\ndef f(x):\n    """New words."""\n\n    return x + 1  # two\n'
    assert _digest(code) == _digest(reworded)
    assert _digest(code) != _digest(code.replace("x + 1", "x + 2"))
    assert _digest('def g():\n    """Only words."""\n') == _digest("def g():\n    pass\n")


def test_the_fingerprint_can_be_pinned_to_an_earlier_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BENCH_FINGERPRINT", raising=False)
    current = dataset.sources_fingerprint()
    assert len(current) == 8 and dataset.database_name(100, 1).endswith(current)
    monkeypatch.setenv("BENCH_FINGERPRINT", "300d486b")
    assert dataset.database_name(12_500, 1) == "bench_t12500_s1_300d486b"
