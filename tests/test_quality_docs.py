"""docs/quality-and-dedup.md: the datatrove notes name the releases they describe, and the
span-dedup example prints what the page says it prints."""

import contextlib
import io
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "quality-and-dedup.md"


def sections_comparing_with_datatrove(text: str) -> list[str]:
    """From each "**Where ... differs" note to the next heading."""
    return [m.group(0) for m in re.finditer(r"\*\*Where [^*]*differs.*?(?=\n#)", text, re.S)]


def test_every_datatrove_note_names_the_release_it_was_checked_against():
    notes = sections_comparing_with_datatrove(DOC.read_text())
    assert len(notes) == 4  # gopher_quality, gopher_repetition, c4, fineweb
    for note in notes:
        assert "datatrove 0.10.1" in note or "0.3.0 and 0.10.1" in note, note[:80]


def test_span_dedup_example_prints_what_the_page_shows():
    text = DOC.read_text()
    section = text[text.index("### `c4_span_dedup`"):]
    code, shown = re.findall(r"```(?:python)?\n(.*?)```", section, re.S)[:2]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "example", "exec"), {})  # noqa: S102 - the documented example, run as written
    assert out.getvalue() == shown
