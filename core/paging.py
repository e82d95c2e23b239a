"""Lists page in the database: the shape every paged result shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from core.jsonable import OMIT_WHEN_DEFAULT

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class PageRequest:
    page: int = 1  # from 1
    page_size: int = DEFAULT_PAGE_SIZE

    def __post_init__(self) -> None:
        if self.page < 1:
            raise ValueError("page must be 1 or more")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page size must be between 1 and {MAX_PAGE_SIZE}")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int
    # A large search's total from a sample (core/totals.py); in JSON only when true.
    total_is_estimate: bool = field(default=False, metadata={OMIT_WHEN_DEFAULT: True})

    @property
    def total_pages(self) -> int:
        return -(-self.total // self.page_size) if self.total else 0

    @property
    def has_next_page(self) -> bool:
        """An estimated total may be too low: only a short page ends the list."""
        return self.page < self.total_pages or (self.total_is_estimate and len(self.items) == self.page_size)
