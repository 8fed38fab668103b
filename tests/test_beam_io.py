"""pipeline.beam_io's input matching: a pattern without a file is refused under the flag that named it."""

from __future__ import annotations

import pytest

from pipeline import beam_io
from pipeline.errors import UsageError


def test_match_inputs_sizes_sorted_and_names_the_flag(tmp_path):
    (tmp_path / "b.nt").write_bytes(b"xyz")
    (tmp_path / "a.nt").write_bytes(b"x")
    assert beam_io.match_inputs([str(tmp_path / "*.nt")]) == [
        {"path": str(tmp_path / "a.nt"), "bytes": 1}, {"path": str(tmp_path / "b.nt"), "bytes": 3}]
    with pytest.raises(ValueError, match=r"^--input '.*none\*\.nt': no file matches"):
        beam_io.match_inputs([str(tmp_path / "none*.nt")])
    with pytest.raises(ValueError, match=r"^--labels '.*none\*\.tsv': no file matches") as caught:
        beam_io.match_inputs([str(tmp_path / "none*.tsv")], "--labels")
    assert "--input" not in str(caught.value)


def test_kg_inputs_name_labels_and_triples_flags(tmp_path):
    from corpora.kg.beam_inputs import resolve_inputs

    with pytest.raises(UsageError, match=r"^--labels '.*nolabels\*': no file matches"):
        resolve_inputs(["corpora/samples/kg/sample.nt"], [str(tmp_path / "nolabels*")], "auto", 16)
    with pytest.raises(UsageError, match=r"^--triples '.*none\*\.nt': no file matches"):
        resolve_inputs([str(tmp_path / "none*.nt")], [], "auto", 16)
