"""Real inputs written by others (``../shared/realdata`` beside the repository).

They are not part of the product: on a user's clone the folder is absent and every test here
skips with that reason; the core suite stands on its own generated data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REALDATA = Path(__file__).resolve().parents[2].parent / "shared" / "realdata"


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The real-data folder; skips the test when it is absent."""
    if not REALDATA.is_dir():
        pytest.skip(f"real-data samples not found at {REALDATA} (they sit beside the repository in CI)")
    return REALDATA
