"""Filters by name, for configs and the command line: ``make_filter("gopher_quality", {...})``."""

from __future__ import annotations

import dataclasses
from typing import Any

from pipeline.filters.base import DocumentFilter
from pipeline.filters.c4 import C4Filter
from pipeline.filters.fineweb import FineWebQuality
from pipeline.filters.gopher import GopherQuality, GopherRepetition
from pipeline.filters.pii import PiiRedactor
from pipeline.filters.url import UrlFilter

FILTERS: dict[str, type[DocumentFilter]] = {
    cls.name: cls
    for cls in (GopherQuality, GopherRepetition, C4Filter, FineWebQuality, UrlFilter, PiiRedactor)
}


def filter_params(name: str) -> list[str]:
    """The parameter names a filter accepts (its dataclass init fields)."""
    return [f.name for f in dataclasses.fields(FILTERS[name]) if f.init]  # type: ignore[arg-type]


def make_filter(name: str, params: dict[str, Any] | None = None) -> DocumentFilter:
    """Build the filter called ``name`` with ``params`` overriding its published defaults.

    Raises ValueError naming an unknown filter (with the known ones), an unknown parameter
    (with the valid ones), or a parameter value out of range (from the filter itself).
    """
    if name not in FILTERS:
        raise ValueError(f"unknown filter {name!r}; known filters: {', '.join(sorted(FILTERS))}")
    params = dict(params or {})
    valid = filter_params(name)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {', '.join(map(repr, unknown))} for filter {name!r}; "
            f"valid parameters: {', '.join(valid)}"
        )
    return FILTERS[name](**params)
