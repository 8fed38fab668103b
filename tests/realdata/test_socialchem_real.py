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


# the attribute tokens the official sc/ code (sc/model/common.py, load_data) gives the real rows, in file order
_OFFICIAL_ROT = ["<advice> <loyalty-betrayal> <all>", "<social-norms> <loyalty-betrayal> <most>",
                 "<social-norms> <care-harm> <loyalty-betrayal> <most>",
                 "<morality-ethics> <care-harm> <loyalty-betrayal> <most>"]
_OFFICIAL_ACTION = ["<agency> <bad> <most> <legal> <strong-against> <hypothetical>",
                    "<agency> <ok> <most> <legal> <strong-for> <explicit-no>",
                    "<agency> <very-good> <most> <legal> <strong-for> <probable>", "<experience> <most>"]


def test_render_format_official_is_byte_identical_to_the_official_code_on_the_real_rows(realdata, tmp_path):
    import json

    import pyarrow.parquet as pq

    import beam_runner

    rows = _real_rows(realdata)[:4]
    expected = set()
    for row, rot_tokens, action_tokens in zip(rows, _OFFICIAL_ROT, _OFFICIAL_ACTION, strict=True):
        expected.add(f"{row['situation']} [attrs] {rot_tokens} [rot] {row['rot']} <eos>")
        expected.add(f"{row['situation']} [attrs] {action_tokens} [action] {row['action']} <eos>")
    out = tmp_path / "corpus"
    beam_runner.main(["socialchem", "render", "--input", str(realdata / "socialchem" / "rows-real.tsv"),
                      "--output", str(out), "--format", "official", "--splits", "all",
                      "--direct_num_workers=1", "--direct_running_mode=in_memory"])
    docs = pq.read_table(str(out / "data")).to_pylist()
    texts = {d["text"] for d in docs if json.loads(d["meta"])["rot-id"] in {r["rot-id"] for r in rows}}
    assert texts == expected
    for d in docs:
        meta = json.loads(d["meta"])
        n = meta["official_input_chars"]
        assert d["text"][n:n + 1] == " " and d["text"][:n].endswith(("[rot]", "[action]"))
