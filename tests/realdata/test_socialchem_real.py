"""SOCIAL-CHEM-101 on real inputs: released rows, and real r/AmItheAsshole titles for mining."""

from __future__ import annotations

from corpora.socialchem.situations import load_labelled, measure


def test_situation_mining_on_real_titles_reaches_the_targets(realdata):
    titles = load_labelled(str(realdata / "situations" / "aita-titles.jsonl"))
    result = measure(titles, loose=True)  # a match: the description up to case, punctuation and quotes
    assert result["positives"] >= 20
    assert result["recall"] >= 0.8, result["errors"]
    assert result["precision"] >= 0.95, result["errors"]
