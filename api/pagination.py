"""Page-number pagination: `?page=1&page_size=20` (at most 100) → {items, count, page, page_size}."""

from typing import Any

from ninja import Field, Schema
from ninja.pagination import PaginationBase

MAX_PAGE_SIZE = 100


class PagePagination(PaginationBase):
    class Input(Schema):
        page: int = Field(1, ge=1, le=100000)
        page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)

    class Output(Schema):
        items: list[Any]
        count: int
        page: int
        page_size: int

    items_attribute = "items"

    def paginate_queryset(self, queryset, pagination: Input, **params):
        offset = (pagination.page - 1) * pagination.page_size
        return {
            "items": list(queryset[offset : offset + pagination.page_size]),
            "count": self._items_count(queryset),
            "page": pagination.page,
            "page_size": pagination.page_size,
        }
