"""Turn core results into docs/rules.md R98."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

TWO_PLACES = Decimal("0.01")
# Field metadata: a field docs/rules.md R98 gained later, shown only when set.
OMIT_WHEN_DEFAULT = "omit_when_default"


def to_jsonable(value: Any) -> Any:
    """Money at two decimals as a JSON number, timestamps ISO 8601 UTC,
    dates YYYY-MM-DD, enums by name, 64-bit ids stay strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_jsonable(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not (f.metadata.get(OMIT_WHEN_DEFAULT) and getattr(value, f.name) == f.default)
        }
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        # A two-place decimal's float has the same shortest text, so this
        # prints exactly the Decimal (no arithmetic happens on the float).
        return float(value.quantize(TWO_PLACES))
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def dumps(value: Any) -> str:
    return json.dumps(to_jsonable(value), ensure_ascii=False, indent=2)
