"""Every drop reason a job can write to stats.json and rejects/, one spelling each, with its meaning.

A stage names why it dropped a record with one of these words (``Drop.reason``); stats.json
counts it under ``dropped`` and rejects/ keeps it in the ``reason`` column. ``tests/test_reasons.py``
checks that every reason written in the code is listed here, and that nothing listed is unused.
Patterns with ``{}`` stand for a family (``dup_{}_gram``: ``dup_5_gram`` ... ``dup_10_gram``).
"""

from __future__ import annotations

import re

REASONS: dict[str, str] = {
    # files: a whole input file
    "empty_file": "the file has no bytes (or no record)",
    "not_warc": "no WARC record header found in the file",
    "not_parquet": "the file is not Parquet",
    "corrupt_parquet": "the Parquet file cannot be read",
    "truncated_gzip": "the compressed stream ends inside a gzip member",
    "truncated_file": "the file ends inside a record",
    "corrupt_compression": "corrupt gzip member stretches were skipped",
    "unknown_format": "the input format cannot be told from the name or the bytes",
    "unreadable": "the file (or an annotation answer in it) cannot be opened or read",
    "unreadable_file": "a KG input file cannot be opened or read",
    "bad_header": "a TSV file's header is not the released format's",
    # read: one record of a file
    "skipped_record_type": "a WARC record that is not a response/conversion (request, metadata, ...)",
    "non_200": "an HTTP response whose status is not 200",
    "not_html": "a response whose content type is not HTML",
    "not_http": "a response record without an HTTP message",
    "warc_truncated": "a record marked WARC-Truncated (dropped with --drop-truncated)",
    "truncated_record": "a record cut short by the end of the file",
    "bad_content_length": "a WARC Content-Length that does not match the block",
    "bad_content_encoding": "an HTTP body whose Content-Encoding cannot be decoded",
    "corrupt_record": "a record whose header or block cannot be parsed",
    "malformed_record": "a record whose WARC header is damaged",
    "digest_mismatch": "a record whose block digest does not match WARC-Block-Digest",
    "oversized": "a record or row larger than the reader's limit",
    "missing_text_field": "a JSONL or Parquet row without the text field",
    "invalid_json": "a line that is not valid JSON",
    "invalid_utf8": "a line that is not valid UTF-8",
    "line_too_long": "a line longer than the line limit",
    "unreadable_row_group": "rows of a Parquet row group that cannot be read (a damaged page)",
    # extract, normalize, langid
    "extract_error": "the HTML extractor failed on the page",
    "html_too_deep": "the HTML nests deeper than the extractor's guard",
    "invalid_encoding": "the page's bytes cannot be decoded in any charset tried",
    "empty_text": "no text (after extraction or in the row)",
    "too_long": "the text is longer than the normalizer's limit",
    "lang_not_selected": "the identified language is not among --langs",
    "lang_low_score": "the language score is below the threshold",
    # quality filters (Gopher, C4, FineWeb, URL)
    "too_few_words": "fewer words than the Gopher minimum",
    "too_many_words": "more words than the Gopher maximum",
    "mean_word_length_low": "mean word length below the Gopher range",
    "mean_word_length_high": "mean word length above the Gopher range",
    "hash_ratio": "too many '#' symbols per word",
    "ellipsis_ratio": "too many ellipses per word",
    "bullet_lines": "too many lines start with a bullet",
    "ellipsis_lines": "too many lines end with an ellipsis",
    "non_alpha_words": "too few words contain a letter",
    "few_stop_words": "fewer English stop words than the Gopher minimum",
    "dup_line_frac": "too many duplicated lines",
    "dup_para_frac": "too many duplicated paragraphs",
    "dup_line_char_frac": "too many characters in duplicated lines",
    "dup_para_char_frac": "too many characters in duplicated paragraphs",
    "top_{}_gram": "the most frequent n-gram covers too many characters",
    "dup_{}_gram": "duplicated n-grams cover too many characters",
    "page_too_long": "a page longer than C4's limit",
    "lorem_ipsum": "the page contains 'lorem ipsum'",
    "curly_bracket": "the page contains a curly bracket (code)",
    "too_few_sentences": "fewer sentences than the minimum (C4, or left after span dedup)",
    "bad_words": "the page contains a word of the bad-words list",
    "line_punct_ratio": "too few lines end with punctuation (FineWeb)",
    "short_line_ratio": "too many short lines (FineWeb)",
    "char_dup_ratio": "too many characters in duplicated lines (FineWeb)",
    "blocked_domain": "the URL's domain is on the block list",
    "blocked_substring": "the URL contains a blocked substring",
    "dropped": "a filter dropped the document without naming a rule",
    # dedup
    "exact_duplicate": "the same normalized text as a document with a smaller id",
    "exact_duplicate_of_previous_build": "the same normalized text as a document of an earlier build",
    "near_duplicate": "in a MinHash cluster whose kept document is another",
    "near_duplicate_of_previous_build": "in a MinHash cluster with a document of an earlier build",
    "all_spans_duplicate": "every span of the page is kept on another page (C4 span dedup)",
    # tokenize
    "missing_id": "a row without an id",
    "bad_special_spans": "a row's special_spans in meta cannot be used",
    "marker_not_in_tokenizer": "a row marks a special token the tokenizer does not have",
    # doc2query
    "blank_line": "an empty line",
    "no_tab": "a TSV line without a tab",
    "empty_id": "a line with an empty id",
    "bad_json": "a JSONL line that is not the expected object",
    "bad_columns": "a qrels line with neither 2 nor 4 columns",
    "bad_relevance": "a qrels relevance that is not an integer",
    "not_relevant": "a judgement of relevance 0 or less",
    "duplicate_id": "another copy of the same id was kept",
    "unknown_query": "a judgement of a query id the queries file lacks",
    "unknown_passage": "a judgement of a passage id the collection lacks",
    "duplicate_judgement": "the same (query, passage) judgement again",
    "no_pairs": "no (heading, passage) pair could be mined from the document",
    "boilerplate_heading": "a heading that heads too many documents (site name, 'Related articles')",
    "collection_line_dropped": "a prediction line aligned with a collection line that was dropped",
    # socialchem
    "no_candidate": "no situation candidate in the document",
    "empty": "the candidate is empty after normalization",
    "url_or_handle": "the candidate is a URL or a user handle",
    "not_gerund": "the candidate does not start with a gerund",
    "too_vague": "the candidate is too vague",
    "too_short": "the candidate is too short",
    "blocked_word": "the candidate contains a blocked word",
    "duplicate": "the same situation was kept from another document",
    "wrong_column_count": "a TSV line without the released format's columns",
    "bad_utf8": "a TSV line that is not valid UTF-8",
    "bad_value": "a TSV cell (or an annotation answer) whose value is not allowed",
    "empty_value": "a required TSV cell is empty",
    "duplicate_rot_id": "a TSV row repeating another row's (rot-id, breakdown-worker-id)",
    "inconsistent_rot": "a TSV row with another row's rot-id but another rot or situation",
    "n_characters_mismatch": "a TSV row listing more characters than its n-characters",
    "narrator_not_first": "a TSV row whose character list does not start with the narrator",
    "split_crossing": "a TSV row whose situation is also in another split",
    "split_not_selected": "a row of a split not selected with --splits",
    "rot_bad": "a row marked rot-bad (kept with --keep-bad)",
    "no_{}_text": "a row with no text for the rendering mode",
    "missing_task_id": "an annotation answer without a task_id",
    "unknown_task_id": "an annotation answer to a task that was not exported",
    "wrong_task_kind": "an annotation answer to a task of the other kind (rot / breakdown)",
    "bad_worker_id": "an annotation answer whose worker id is empty or has a tab, '/' or '|'",
    "machine_made": "a machine-made (machine:*) answer, imported only with --allow-machine",
    "value_too_long": "an annotation answer with a field longer than the import's limit",
    "duplicate_answer": "a second answer of the same worker to the same task",
    "no_rot": "a RoT-writing answer with no RoT written",
    "bad_characters": "a RoT-writing answer whose character list is not narrator-first, at most 6",
    # kg
    "bad_entity": "a Wikidata entity that cannot be parsed",
    "not_an_entity": "a Wikidata JSON line that is not an entity",
    "bad_escape": "an N-Triples escape that is not valid",
    "bad_literal": "an RDF literal that cannot be parsed",
    "relative_iri": "an IRI that is not absolute",
    "malformed_line": "an N-Triples line that cannot be parsed",
    "malformed_row": "a TSV row that cannot be parsed",
    "malformed_triple": "a triple without subject, predicate or object",
    "invalid_xml": "a WebNLG file that is not valid XML",
    "wikimedia_page": "an entity that is a Wikimedia page, not a thing",
    "media_file": "a value that is a media file",
    "identifier": "a statement whose value is an external identifier",
    "unknown_value": "a statement whose value is unknown",
    "no_value": "a statement with no value",
    "incomplete_statement": "a statement node without its parts",
    "deprecated_rank": "a statement of deprecated rank",
    "conflicting_statement": "statements that contradict each other",
    "sitelink": "a triple that is a sitelink",
    "page_metadata": "a triple about the page, not the thing",
    "empty_output": "the verbalizer generated nothing",
    "missing_object": "the text does not mention a fact's object",
    "hallucinated_entity": "the text names an entity that is not in the facts",
    "misattributed": "the text attributes a fact to the wrong subject",
    "negated": "the text negates a fact",
    "hub_cap": "a fact of an entity with more facts than --max-facts-per-entity (the smallest hashes kept)",
    "duplicate_fact": "a fact stated again (the same triple, or a triple its statement with qualifiers states)",
    "no_entity_mention": "a sentence that names no entity of the graph (kg-align)",
    "subject_has_no_facts": "a sentence whose mentioned entity has no facts (kg-align)",
    "no_object_in_sentence": "a sentence that mentions none of its subject's objects (kg-align)",
    "sentence_too_short": "a sentence shorter than the aligner's minimum",
    "sentence_too_long": "a sentence longer than the aligner's maximum",
}


def _pattern(reason: str) -> re.Pattern:
    return re.compile("^" + re.escape(reason).replace(r"\{\}", "[a-z0-9]+") + "$")


_PATTERNS = [(_pattern(r), r) for r in REASONS if "{}" in r]


def registered(reason: str) -> str | None:
    """The registry entry a reason belongs to (itself, or its ``{}`` family); None if unregistered."""
    if reason in REASONS:
        return reason
    return next((entry for pattern, entry in _PATTERNS if pattern.match(reason)), None)


def meaning(reason: str) -> str:
    """The one-line meaning of a reason (KeyError when unregistered)."""
    entry = registered(reason)
    if entry is None:
        raise KeyError(reason)
    return REASONS[entry]
