"""The one duplicate-id rule of every doc2query job (pairs, expansion, evaluation), and the id order
that breaks ties: whatever order copies are read or grouped in, the same copy wins."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

DUPLICATE_ID = "duplicate_id"  # drop reason of every copy that lost
DUPLICATE_CONFLICT = "duplicate_id_conflict"  # count: ids whose copies had different texts


def pick_copy(copies: Sequence[T], text: Callable[[T], str]) -> tuple[T, list[T], bool]:
    """(kept, dropped, conflict) of the copies of one id: the copy whose text is first in
    code-point order is kept; ``conflict`` says whether the copies' texts differed."""
    ordered = sorted(copies, key=text)
    return ordered[0], ordered[1:], text(ordered[0]) != text(ordered[-1])


def keeps_new(kept_text: str, new_text: str) -> bool:
    """Streaming form of :func:`pick_copy`: whether a new copy replaces the kept one."""
    return new_text < kept_text


def id_order(pid: str) -> tuple[int, int | str]:
    """Sort key of passage ids: integer ids (MS MARCO pids) by value, before other ids by code point."""
    return (0, int(pid)) if pid.isascii() and pid.isdigit() else (1, pid)
