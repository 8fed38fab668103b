"""Agreement (Krippendorff's alpha per level), aggregation with ties, splits by situation, rendering, stats."""

import json

import krippendorff
import numpy as np
import pytest

from corpora.socialchem.agreement import aggregate_rot, compute_agreement, krippendorff_alpha, level_of
from corpora.socialchem.assist import machine_worker_id, parse_proposal
from corpora.socialchem.render import RenderConfig, RenderRow, SelectRow, render_text
from corpora.socialchem.schema import row_errors
from corpora.socialchem.split import assign_situations, check_crossing, split_rows
from corpora.socialchem.stats import write_stats
from corpora.socialchem.validate import validate_text
from pipeline.records import Document, Drop
from tests.socialchem_rows import generated_rows, line_of, real_rows, tsv


def three_breakdowns():
    base = real_rows()[0]
    a = dict(base, **{"breakdown-worker-id": "1"})
    b = dict(base, **{"breakdown-worker-id": "2", "rot-agree": "2", "action-legal": "tolerated",
                      "rot-moral-foundations": "care-harm|loyalty-betrayal"})
    c = dict(base, **{"breakdown-worker-id": "3", "rot-agree": "3", "action-legal": "illegal", "rot-bad": "1",
                      "rot-moral-foundations": "care-harm"})
    return [a, b, c]


def test_levels_of_measurement():
    assert level_of("rot-agree") == level_of("action-pressure") == level_of("action-hypothetical") == "ordinal"
    assert level_of("action-legal") == level_of("rot-char-targeting") == level_of("rot-bad") == "nominal"
    assert level_of("rot-moral-foundations") == "multi-label"


def test_alpha_matches_the_krippendorff_package_on_a_reliability_matrix():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 5, size=40)
    matrix = np.array([np.clip(truth + rng.integers(-1, 2, size=40), 0, 4) for _ in range(3)], dtype=float)
    matrix[0, 3] = np.nan
    units = [["" if np.isnan(v) else str(int(v)) for v in matrix[:, j]] for j in range(40)]
    for level in ("ordinal", "nominal"):
        ours = krippendorff_alpha(units, [str(i) for i in range(5)], level)
        ref = krippendorff.alpha(reliability_data=matrix, level_of_measurement=level, value_domain=list(range(5)))
        assert ours == pytest.approx(ref)
    assert krippendorff_alpha([["1", "1"], ["1", "1"]], ["0", "1"], "nominal") is None  # no variation


def test_aggregation_majority_median_multilabel_and_ties():
    row, ties = aggregate_rot(three_breakdowns())
    assert row["rot-agree"] == "3"  # median of 4, 2, 3
    assert row["action-legal"] == "legal"  # a three-way tie: schema order, reported
    assert {"dimension": "action-legal", "tied": ["legal", "illegal", "tolerated"], "chose": "legal"} in ties
    assert row["rot-moral-foundations"] == "care-harm|loyalty-betrayal"  # labels chosen by >= half
    assert row["rot-bad"] == "0" and row["breakdown-worker-id"] == "aggregate" and row["m"] == "3"
    assert row_errors(row) == []
    two, ties2 = aggregate_rot(three_breakdowns()[1:])
    assert two["rot-agree"] == "2"  # even count: the lower middle value, reported
    assert any(t["dimension"] == "rot-agree" and t["tied"] == ["2", "3"] for t in ties2)
    assert two["rot-bad"] == "1"  # one of two: a tie counts as bad


def test_compute_agreement_lists_low_agreement_items():
    rows = three_breakdowns() + generated_rows(10, rots_per=1, breakdowns=3, seed=3)
    result = compute_agreement(rows, low_threshold=0.9)
    assert result.rots == 11 and result.multi_annotated == 11 and len(result.aggregated) == 11
    dims = {d.dimension: d for d in result.dimensions}
    assert "rot-moral-foundations:care-harm" in dims and dims["rot-agree"].level == "ordinal"
    assert dims["rot-agree"].items == 11 and dims["rot-agree"].alpha is not None
    assert dims["action-agency"].alpha is None and dims["action-agency"].note.startswith("no variation")
    assert result.low_agreement and all(i["agreement"] < 0.9 for i in result.low_agreement)
    assert "rot-agree" in result.table()


def test_split_is_by_situation_per_area_and_seeded():
    rows = generated_rows(200, rots_per=2, seed=1, areas=("amitheasshole", "confessions"))
    result = split_rows(rows, seed=7)
    assert result.crossing == [] and len(result.rows) == len(rows)
    by_area = {}
    for sid, split in result.situations.items():
        by_area.setdefault(sid.split("/")[1], []).append(split)
    for splits in by_area.values():
        assert splits.count("train") == 80 and splits.count("dev") == 10 and splits.count("test") == 10
    again = split_rows(list(reversed(rows)), seed=7)
    assert again.situations == result.situations  # independent of input order
    assert split_rows(rows, seed=8).situations != result.situations
    assert assign_situations({"a": "x", "b": "x", "c": "x"}) and set(assign_situations(
        {"a": "x", "b": "x", "c": "x"}).values()) == {"train", "dev", "test"}


def test_multi_annotated_rots_go_to_extra_splits_with_their_aggregate():
    rows = generated_rows(60, rots_per=1, breakdowns=3, seed=2)
    aggregated = compute_agreement(rows).aggregated
    result = split_rows(rows, seed=0, aggregated=aggregated)
    splits = {r["split"] for r in result.rows}
    assert splits == {"train", "none", "dev", "dev-extra", "test", "test-extra"}
    dev_rots = {r["rot-id"] for r in result.rows if r["split"] == "dev-extra"}
    assert {r["rot-id"] for r in result.rows if r["split"] == "dev"} == dev_rots
    assert all(r["breakdown-worker-id"] == "aggregate" for r in result.rows if r["split"] in ("dev", "test"))
    assert check_crossing(result.rows) == []
    broken = [dict(r) for r in result.rows]
    next(r for r in broken if r["split"] == "dev")["split"] = "train"  # its breakdowns stay in dev-extra
    assert check_crossing(broken)


def test_split_follows_the_release_layout_one_breakdown_per_rot_in_the_main_splits():
    rows = generated_rows(60, rots_per=2, breakdowns=3, seed=3)
    result = split_rows(rows, seed=0)
    by = {}
    for r in result.rows:
        by.setdefault((r["rot-id"], r["split"]), []).append(r["breakdown-worker-id"])
    for (rid, split), workers in by.items():
        if split in ("train", "dev", "test"):
            assert len(workers) == 1, (rid, split)  # one breakdown per RoT
        if split in ("dev-extra", "test-extra"):
            main = by[(rid, split[:-len("-extra")])]
            assert sorted(workers) == ["b0", "b1", "b2"] and main[0] in workers  # all of them, one repeated
        if split == "none":
            assert len(workers) == 2 and by[(rid, "train")][0] not in workers
    assert result.repeated == sum(1 for (_, s) in by if s in ("dev", "test"))
    assert len(result.rows) == len(rows) + result.repeated  # every input row is there
    assert validate_text(tsv([line_of(r) for r in result.rows])).ok
    assert split_rows(list(reversed(rows)), seed=0).situations == result.situations


def test_existing_splits_are_kept_unless_resplit():
    rows = generated_rows(40, rots_per=2, seed=4)
    first = split_rows(rows, seed=0).rows
    again = split_rows(first, seed=9)
    assert again.kept == 40 and again.assigned == 0 and again.rows == first  # a split file stays as it is
    fresh = generated_rows(50, rots_per=1, seed=5)[40:]  # ten situations without a split join it
    mixed = split_rows(first + fresh, seed=9)
    assert mixed.kept == 40 and mixed.assigned == 10 and mixed.rows[:len(first)] == first
    assert all(r["split"] != "none" for r in mixed.rows)
    resplit = split_rows(first, seed=9, resplit=True)
    assert resplit.kept == 0 and resplit.situations != again.situations


def test_render_rot_and_action_modes_with_attribute_tokens():
    row = real_rows()[2]  # care-harm|loyalty-betrayal, rot-agree 3, judgment 2, pressure 2
    assert render_text(row, "rot") == (
        "telling my boyfriend I am bored and unhappy at my job [attrs] <rot-categorization:social-norms> "
        "<rot-moral-foundations:care-harm> <rot-moral-foundations:loyalty-betrayal> <rot-agree:most> [rot] "
        "Partners should listen to each other's issues.")
    assert render_text(row, "action") == (
        "telling my boyfriend I am bored and unhappy at my job [attrs] <action-agency:agency> "
        "<action-moral-judgment:very-good> <action-agree:most> <action-legal:legal> <action-pressure:strong-for> "
        "<action-hypothetical:probable> [action] Listening to each other's issues.")
    unanswered = dict(row, **{"rot-agree": "", "rot-moral-foundations": ""})
    assert "<rot-agree" not in render_text(unanswered, "rot")
    assert render_text(dict(row, action=""), "action") is None
    doc = RenderRow()(((4, row), "rot"))
    assert isinstance(doc, Document) and doc.source == "socialchem" and json.loads(doc.to_row()["meta"])["split"] == "test"
    assert RenderRow()(((4, row), "rot")).id == doc.id != RenderRow()(((4, row), "action")).id
    select = SelectRow(RenderConfig(splits=["test"]))
    assert isinstance(select((1, dict(row, **{"rot-bad": "1"}))), Drop)
    assert select((1, row)) == (1, row)
    assert select((1, real_rows()[0])).reason == "split_not_selected"


def test_stats_tables_and_plots(tmp_path):
    rows = split_rows(generated_rows(30, rots_per=2, seed=4), seed=0).rows
    summary = write_stats(rows, str(tmp_path))
    assert summary["rows"] == 60 and summary["situations"] == 30 and summary["rots_per_situation"] == {"2": 30}
    assert sum(summary["dimensions"]["action-legal"]["train"].values()) == summary["rows_per_split"]["train"]
    for name in ("stats.json", "stats.md", "dimensions.png", "situations.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert (tmp_path / "dimensions.png").read_bytes()[:4] == b"\x89PNG"


def test_parse_proposal_reads_attribute_tokens_back_to_tsv_values():
    out = parse_proposal("<rot-categorization:advice> <rot-moral-foundations:care-harm> <rot-agree:most> "
                         "<bogus:x> [rot] You should be kind.")
    assert out == {"text": "You should be kind.", "unknown_tokens": 1,
                   "attributes": {"rot-categorization": "advice", "rot-moral-foundations": "care-harm",
                                  "rot-agree": "3"}}
    assert parse_proposal("just text")["text"] == "just text"
    assert machine_worker_id("hf:/models/nnt t5/") == "machine:hf:nnt_t5"
