"""SOCIAL-CHEM schema and validator: the real sample rows pass; every bad input is reported precisely."""

import gzip

import pytest

from corpora.socialchem.schema import COLUMNS, HEADER, N_COLUMNS, SCHEMA, format_row, parse_row, row_errors
from corpora.socialchem.validate import load_tsv, validate_file, validate_text
from tests.socialchem_rows import REAL_ROWS, SAMPLE_TSV, generated_rows, line_of, real_rows, tsv
from tokenizer.special_tokens import SOCIALCHEM_ATTRIBUTES


def test_schema_has_the_release_columns_in_order():
    assert N_COLUMNS == 25
    assert COLUMNS[0] == "area" and COLUMNS[-1] == "characters"
    assert HEADER.split("\t") == list(COLUMNS)
    if SAMPLE_TSV.exists():  # the shared reference file, when present, has exactly our header
        assert SAMPLE_TSV.read_text(encoding="utf-8").splitlines()[0] == HEADER


def test_categorical_values_agree_with_the_tokenizer_attribute_tokens():
    for attr, values in SOCIALCHEM_ATTRIBUTES.items():
        col = SCHEMA[attr]
        if col.kind == "int":
            assert col.hi - col.lo + 1 == len(values)
        else:
            assert tuple(col.values) == values


def test_real_sample_rows_are_valid_and_round_trip():
    report = validate_text(tsv(REAL_ROWS))
    assert report.ok, report.render()
    assert report.rows == report.valid_rows == 3
    assert report.situations == 3 and report.rots == 3
    assert report.splits == {"train": 1, "dev": 1, "test": 1}
    for row in real_rows():
        assert row_errors(row) == []
        typed = parse_row(row)
        assert typed["action-moral-judgment"] in (-1, 0, 2) and isinstance(typed["m"], int)
        assert format_row(typed) == row


def test_shared_reference_file_validates_and_loads():
    if not SAMPLE_TSV.exists():
        pytest.skip("shared reference not present")
    assert validate_file(str(SAMPLE_TSV)).ok
    table = load_tsv(str(SAMPLE_TSV))
    assert table.num_rows == 3 and table.column("rot-agree").to_pylist() == [4, 3, 3]


def _issues(text):
    report = validate_text(text)
    return report, {(e.line, e.kind, e.column) for e in report.examples}


def test_missing_column_in_header_is_named():
    header = "\t".join(c for c in COLUMNS if c != "rot-agree")
    report, found = _issues(tsv(REAL_ROWS, header=header))
    assert not report.ok and not report.header_ok
    assert "missing column(s): rot-agree" in str(report.examples[0])


def test_row_with_a_missing_cell_and_a_shifted_row_are_reported_by_line():
    cells = REAL_ROWS[0].split("\t")
    missing = "\t".join(cells[:3] + cells[4:])  # rot-agree cell gone: 24 fields
    shifted = "\t".join(cells[:8] + ["it's", "bad"] + cells[9:])  # a tab inside a value: 26 fields
    report, found = _issues(tsv([REAL_ROWS[1], missing, shifted, REAL_ROWS[2]]))
    assert (3, "wrong_column_count", None) in found and (4, "wrong_column_count", None) in found
    assert report.valid_rows == 2 and report.rows == 4
    messages = [str(e) for e in report.examples]
    assert any("24 fields instead of 25 (likely a missing column)" in m for m in messages)
    assert any("26 fields instead of 25 (likely a tab inside a value" in m for m in messages)


def test_value_outside_the_allowed_set_names_line_column_and_allowed_values():
    row = real_rows()[0]
    row.update({"action-legal": "maybe", "rot-agree": "5", "rot-categorization": "advice|gossip", "m": "x"})
    report, found = _issues(tsv([line_of(row)]))
    assert {(2, "bad_value", "action-legal"), (2, "bad_value", "rot-agree"),
            (2, "bad_value", "rot-categorization"), (2, "bad_value", "m")} <= found
    text = {e.column: str(e) for e in report.examples}
    assert "line 2, column 'action-legal': value 'maybe'" in text["action-legal"]
    assert "allowed: legal, illegal, tolerated" in text["action-legal"]
    assert "out of range (allowed: an integer 0..4" in text["rot-agree"]
    assert "not an integer" in text["m"]


def test_char_index_beyond_n_characters():
    row = real_rows()[0]  # two characters: char-0 and char-1 exist
    row["action-char-involved"] = "char-2"
    row["rot-char-targeting"] = "char-5"
    report, found = _issues(tsv([line_of(row)]))
    assert (2, "char_out_of_range", "action-char-involved") in found
    assert (2, "char_out_of_range", "rot-char-targeting") in found
    assert "allowed: char-none or char-0..char-1" in str(report.examples[0])


def test_characters_rules():
    row = real_rows()[0]
    row["characters"] = "my friend|narrator"
    bad_count = real_rows()[1]
    bad_count["n-characters"] = "2"  # lists three
    _, found = _issues(tsv([line_of(row), line_of(bad_count)]))
    assert (2, "narrator_not_first", "characters") in found
    assert (3, "n_characters_mismatch", "n-characters") in found


def test_empty_situation_and_rot():
    row = real_rows()[0]
    row["situation"] = ""
    other = real_rows()[1]
    other["rot"] = ""
    report, found = _issues(tsv([line_of(row), line_of(other)]))
    assert (2, "empty_value", "situation") in found and (3, "empty_value", "rot") in found


def test_duplicate_rot_ids():
    rows = real_rows()
    again = dict(rows[0])  # same rot-id and same breakdown worker: a duplicate row
    inconsistent = dict(rows[1], **{"breakdown-worker-id": "77", "rot": "Another text."})
    report, found = _issues(tsv([line_of(r) for r in rows] + [line_of(again), line_of(inconsistent)]))
    assert (5, "duplicate_rot_id", "rot-id") in found
    assert (6, "inconsistent_rot", "rot-id") in found
    assert "already on line 2" in next(str(e) for e in report.examples if e.kind == "duplicate_rot_id")
    second = dict(rows[0], **{"breakdown-worker-id": "5"})  # a second breakdown of the same RoT is fine
    assert validate_text(tsv([line_of(r) for r in rows] + [line_of(second)])).ok


def test_situation_crossing_splits_is_found():
    rows = generated_rows(2, rots_per=2)
    rows[0]["split"], rows[1]["split"] = "train", "test"
    rows[2]["split"] = rows[3]["split"] = "dev"
    report, found = _issues(tsv([line_of(r) for r in rows]))
    assert (3, "split_crossing", "split") in found
    assert not validate_text(tsv([line_of(r) for r in rows]), check_splits=False).issues.get("split_crossing")


def test_bad_utf8_blank_lines_and_counts(tmp_path):
    data = (tsv(REAL_ROWS[:1]) + "\n" + REAL_ROWS[1] + "\n").encode() + b"\xff\xfe bad\n" + REAL_ROWS[2].encode()
    path = tmp_path / "x.tsv.gz"
    path.write_bytes(gzip.compress(data))
    report = validate_file(str(path))
    assert report.issues == {"blank_line": 1, "bad_utf8": 1}
    assert report.valid_rows == 3 and report.rows == 5
    assert {e.line for e in report.examples} == {3, 5}


def test_generated_rows_validate_and_load(tmp_path):
    rows = generated_rows(30, rots_per=3, breakdowns=2)
    path = tmp_path / "gen.tsv"
    path.write_text(tsv([line_of(r) for r in rows]), encoding="utf-8")
    report = validate_file(str(path))
    assert report.ok, report.render()
    assert report.rows == 180 and report.rots == 90 and report.situations == 30
    table = load_tsv(str(path), columns=["rot-id", "rot-agree"])
    assert table.num_rows == 180 and table.column_names == ["rot-id", "rot-agree"]


def test_chunked_reader_keeps_line_numbers_across_chunks_crlf_and_overlong_lines():
    import io

    from corpora.socialchem.validate import ValidationReport, iter_line_blocks

    rows = [line_of(r) for r in generated_rows(40)]
    long_line = "x" * 5000
    text = "\r\n".join([HEADER] + rows[:10] + [long_line] + rows[10:]) + "\r\n"
    report = ValidationReport()
    blocks = list(iter_line_blocks(io.BytesIO(text.encode()), report, max_line_bytes=2000, chunk_bytes=700))
    lines = [n for b in blocks for n in b[0]]
    texts = [t for b in blocks for t in b[1]]
    assert lines == list(range(1, 12)) + list(range(13, 13 + len(rows) - 10))
    assert texts[0] == HEADER and texts[1:] == rows and not any(t.endswith("\r") for t in texts)
    assert report.issues == {"line_too_long": 1} and report.examples[0].line == 12
    full = validate_text(text.replace(long_line + "\r\n", ""))
    assert full.ok and full.rows == len(rows)


def test_analysis_split_is_neutral_and_a_differing_situation_text_is_a_warning():
    rows = generated_rows(2, rots_per=3)
    rows[0]["split"], rows[1]["split"], rows[2]["split"] = "analysis", "train", "train"
    rows[3]["split"], rows[4]["split"], rows[5]["split"] = "test", "analysis", "test-extra"
    report = validate_text(tsv([line_of(r) for r in rows]))
    assert report.ok and not report.issues, report.render()
    rows[5]["split"] = "train"  # a real crossing after a neutral row
    assert validate_text(tsv([line_of(r) for r in rows])).issues == {"split_crossing": 1}
    rows[5]["split"] = "test"
    rows[4]["situation"] = "doing thing number 1, told differently"
    report = validate_text(tsv([line_of(r) for r in rows]))
    assert report.ok and report.issues == {"inconsistent_situation": 1} and report.valid_rows == 6
    assert "warnings, not errors: inconsistent_situation" in report.render()


def test_release_semantics_n_characters_beyond_the_six_listed_and_tolerated_rules():
    rows = generated_rows(3, rots_per=1)
    many = dict(rows[0], **{"n-characters": "8", "characters": "|".join(["narrator"] + [f"p{k}" for k in range(5)]),
                            "rot-char-targeting": "char-5"})  # 8 identified, 6 listed: the release's shape
    fewer = dict(rows[1], **{"n-characters": "3", "characters": "narrator|p1", "action-char-involved": "char-1",
                             "rot-char-targeting": "char-0"})  # fewer listed than counted: a warning
    beyond = dict(rows[2], **{"n-characters": "2", "characters": "narrator|p1", "rot-char-targeting": "char-3"})
    report = validate_text(tsv([line_of(r) for r in (many, fewer, beyond)]))
    assert report.ok and report.valid_rows == 3, report.render()
    assert report.warnings == {"characters_not_all_listed": 1, "char_out_of_range": 1}
    seven = dict(many, **{"characters": many["characters"] + "|p6"})  # seven listed: more than the release lists
    assert validate_text(tsv([line_of(seven)])).errors == {"n_characters_mismatch": 1}
    assert row_errors(many) == [] and row_errors(seven)


def test_a_breakdown_repeated_in_the_extra_split_is_a_warning_but_not_within_one_split():
    row = real_rows()[1]  # dev
    extra = dict(row, split="dev-extra")
    other_worker = dict(row, split="dev-extra", **{"breakdown-worker-id": "40"})
    report = validate_text(tsv([line_of(r) for r in (row, extra, other_worker)]))
    assert report.ok and report.valid_rows == 3 and report.warnings == {"breakdown_in_two_splits": 1}
    assert validate_text(tsv([line_of(row), line_of(row)])).errors == {"duplicate_rot_id": 1}
