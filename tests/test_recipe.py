"""Recipes from flags and YAML: resolution, defaults, and errors that name what is wrong."""

import pytest

from pipeline.recipe import load_recipe, parse_steps, steps_from_flag


def test_flag_resolves_published_defaults():
    steps = steps_from_flag("gopher_quality,c4,fineweb,exact_dedup,minhash_dedup")
    assert [s.name for s in steps] == ["gopher_quality", "c4", "fineweb", "exact_dedup", "minhash_dedup"]
    described = {k: v for s in steps for k, v in s.describe().items()}
    assert described["gopher_quality"]["min_words"] == 50
    assert described["fineweb"] == {"line_punct_ratio": 0.12, "line_punct_exclude_zero": False, "short_line_ratio": 0.67,
                                    "short_line_length": 30, "char_duplicates_ratio": 0.1}
    assert described["minhash_dedup"]["num_perm"] == 112
    assert described["minhash_dedup"]["bands"] == 14 and described["minhash_dedup"]["rows"] == 8
    # the described form resolves again to the same thing (the manifest is re-runnable)
    again = parse_steps([s.describe() for s in steps])
    assert [s.describe() for s in again] == [s.describe() for s in steps]


def test_yaml_recipe_with_params_and_langs(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(
        "steps:\n"
        "  - gopher_quality: {min_words: 20, langs: [en, de]}\n"
        "  - minhash_dedup: {threshold: 0.7}\n"
    )
    steps = load_recipe(str(path))
    assert steps[0].filter.min_words == 20 and steps[0].langs == frozenset({"en", "de"})
    mh = steps[1].params
    assert mh["bands"] * mh["rows"] <= mh["num_perm"] and (mh["bands"], mh["rows"]) != (14, 8)


@pytest.mark.parametrize("text, message", [
    ("steps:\n  - gopher\n", "unknown step 'gopher'"),
    ("steps:\n  - c4: {min_word: 3}\n", "unknown parameter(s) 'min_word' for filter 'c4'"),
    ("steps:\n  - gopher_quality: {min_words: -5}\n", "min_words"),
    ("steps:\n  - fineweb: {line_punct_ratio: 3}\n", "line_punct_ratio"),
    ("steps:\n  - minhash_dedup: {bands: 20, rows: 8}\n", "bands * rows must be <= num_perm"),
    ("steps:\n  - minhash_dedup: {band: 20}\n", "unknown field(s) 'band' for step 'minhash_dedup'"),
    ("steps:\n  - exact_dedup: {langs: [en]}\n", "langs applies to filters only"),
    ("steps:\n  - c4\n  - c4\n", "more than once"),
    ("step:\n  - c4\n", "expected a mapping with a 'steps' list"),
    ("steps: [c4]\nextra: 1\n", "unknown top-level field(s) extra"),
    ("steps:\n  - gopher_quality: {langs: [english]}\n", "not ISO 639"),
])
def test_recipe_errors_name_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ValueError) as info:
        load_recipe(str(path))
    assert message in str(info.value) and str(path) in str(info.value)


def test_missing_recipe_file():
    with pytest.raises(ValueError, match="cannot read it"):
        load_recipe("/nonexistent/recipe.yaml")


def test_bundled_recipes_load():
    from pathlib import Path

    for path in sorted((Path(__file__).resolve().parents[1] / "recipes").glob("*.yaml")):
        assert load_recipe(str(path))


def test_fineweb_recipe_uses_fineweb_c4_settings():
    """FineWeb ran datatrove's C4 filter: 5 sentences per page, 3 words per line, no
    terminal-punctuation rule (TFDS's C4 builder has 3 sentences and 5 words)."""
    from pathlib import Path

    from pipeline.records import Document

    steps = load_recipe(str(Path(__file__).resolve().parents[1] / "recipes" / "fineweb.yaml"))
    c4 = next(s.filter for s in steps if s.name == "c4")
    assert (c4.min_sentences, c4.min_words_per_line, c4.filter_terminal_punct) == (5, 3, False)
    four = Document(id="d", text="One two three four.\nFive six seven eight.\nA b c d.\nE f g h.", source="t")
    verdict = c4.evaluate(four)  # 4-word lines are kept, 4 sentences are too few
    assert verdict.reason == "too_few_sentences" and verdict.signals["lines_kept"] == 4
    five = Document(id="d", text=four.text + "\nI j k.", source="t")
    assert c4.evaluate(five).keep
