"""``render --format official``: SOCIAL-CHEM-101's own training text (sc/model/common.py), byte for byte."""

import pytest

from corpora.socialchem.render import RenderConfig
from corpora.socialchem.render_official import (
    RenderOfficialRow,
    UnterminatedQuote,
    official_example,
    pandas_cell,
)
from pipeline.records import Document, Drop
from tests.socialchem_rows import generated_rows, real_rows

# what the official load_data (situation_and_attributes, action_or_rot) gives for the three sample rows
OFFICIAL = [
    ("losing trust in my friend [attrs] <advice> <loyalty-betrayal> <all> [rot]",
     "It's bad to do something that causes other people to lose trust in you. <eos>",
     "losing trust in my friend [attrs] <agency> <bad> <most> <legal> <strong-against> <hypothetical> [action]",
     "doing something that causes other people to lose trust in you. <eos>"),
    ("saying no to being a bridesmaid at a friend's wedding [attrs] <social-norms> <loyalty-betrayal> <most> [rot]",
     "People are expected to participate in the big events in their friends' lives if asked. <eos>",
     "saying no to being a bridesmaid at a friend's wedding [attrs] <agency> <ok> <most> <legal> <strong-for> "
     "<explicit-no> [action]",
     "people participating in the big events in their friends' lives if asked. <eos>"),
    ("telling my boyfriend I am bored and unhappy at my job [attrs] <social-norms> <care-harm> <loyalty-betrayal> "
     "<most> [rot]",
     "Partners should listen to each other's issues. <eos>",
     "telling my boyfriend I am bored and unhappy at my job [attrs] <agency> <very-good> <most> <legal> "
     "<strong-for> <probable> [action]",
     "Listening to each other's issues. <eos>"),
]


def test_official_pairs_of_the_sample_rows_are_byte_identical():
    for row, (rot_in, rot_out, act_in, act_out) in zip(real_rows(), OFFICIAL, strict=True):
        assert official_example(row, "rot") == (rot_in, rot_out)
        assert official_example(row, "action") == (act_in, act_out)


def test_official_spelling_shared_tokens_sorted_labels_kept_spaces_and_pandas_cells():
    row = generated_rows(1, rots_per=1)[0]
    row.update({"rot-categorization": "social-norms|advice", "rot-moral-foundations": "loyalty-betrayal|care-harm",
                "rot-agree": "3", "action-agree": "3",
                "action-agency": "", "action-moral-judgment": "", "action-legal": "", "action-pressure": "",
                "action-hypothetical": "", "situation": "caf\u00e9 e\u0301  twice"})
    source, target = official_example(row, "rot")
    assert source.endswith("[attrs] <advice> <social-norms> <care-harm> <loyalty-betrayal> <most> [rot]")
    assert target == row["rot"] + " <eos>"
    assert source.startswith("caf\u00e9 e\u0301  twice [attrs]")  # no normalisation of any kind
    assert official_example(row, "action")[0] == "caf\u00e9 e\u0301  twice [attrs] <most> [action]"
    assert official_example(dict(row, **{"action-agree": ""}), "action")[0].endswith("[attrs]  [action]")
    assert pandas_cell('"Friends" is on') == "Friends is on" and pandas_cell('"a ""b"" c"') == 'a "b" c'
    assert pandas_cell("None") is None and pandas_cell('mid "q"') == 'mid "q"'
    with pytest.raises(UnterminatedQuote):
        pandas_cell('"never closed')
    assert official_example(dict(row, situation="NA"), "rot")[0].startswith("<NA> [attrs]")
    assert official_example(dict(row, action=""), "action") == "no_action_text"
    assert official_example(dict(row, rot='"open'), "rot") == "unterminated_quote"


def test_official_documents_split_back_into_the_pair():
    row = real_rows()[0]
    doc = RenderOfficialRow()(((2, row), "action"))
    assert isinstance(doc, Document) and doc.meta["format"] == "official"
    n = doc.meta["official_input_chars"]
    assert (doc.text[:n], doc.text[n + 1:]) == OFFICIAL[0][2:]
    assert isinstance(RenderOfficialRow()(((3, dict(row, action="")), "action")), Drop)
    with pytest.raises(ValueError, match="--format"):
        RenderConfig(format="paper").check()
