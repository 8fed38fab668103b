"""SOCIAL-CHEM-101 on real inputs: released rows, and real r/AmItheAsshole titles for mining."""

from __future__ import annotations

from corpora.socialchem.situations import load_labelled, measure


def test_situation_mining_on_real_titles_reaches_the_targets(realdata):
    titles = load_labelled(str(realdata / "situations" / "aita-titles.jsonl"))
    result = measure(titles, loose=True)  # a match: the description up to case, punctuation and quotes
    assert result["positives"] >= 20
    assert result["recall"] >= 0.8, result["errors"]
    assert result["precision"] >= 0.95, result["errors"]


def _real_rows(realdata) -> list[dict[str, str]]:
    from corpora.socialchem.files import read_tsv_rows

    rows, report = read_tsv_rows(str(realdata / "socialchem" / "rows-real.tsv"))
    assert report.ok and rows, report.render()
    return rows


def test_every_real_release_row_is_valid_also_in_the_release_layout(realdata, tmp_path):
    from corpora.socialchem.schema import HEADER, to_line
    from corpora.socialchem.validate import validate_file

    path = realdata / "socialchem" / "rows-real.tsv"
    report = validate_file(str(path))
    assert report.ok and report.rows == report.valid_rows >= 4, report.render()
    rows = _real_rows(realdata)
    # the release repeats a dev/test breakdown in dev-extra/test-extra and counts characters it does not list
    extra = [dict(r, split=r["split"] + "-extra") for r in rows if r["split"] in ("dev", "test")]
    wide = [dict(r, **{"n-characters": "9"}) for r in rows[:1]]
    wide[0]["rot-id"] += "/wide"
    text = "\n".join([HEADER] + [to_line(r) for r in rows + extra + wide]) + "\n"
    (tmp_path / "layout.tsv").write_text(text, encoding="utf-8")
    report = validate_file(str(tmp_path / "layout.tsv"))
    assert report.ok and report.valid_rows == len(rows) + len(extra) + 1, report.render()
    assert report.warnings == {"breakdown_in_two_splits": len(extra), "characters_not_all_listed": 1}
