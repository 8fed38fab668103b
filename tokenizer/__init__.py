"""Tokenizers for corpusforge corpora: ``python -m tokenizer train|encode|inspect``.

Modules:

* :mod:`tokenizer.train` - train byte-level BPE / WordPiece / Unigram (HF ``tokenizers``)
  on a stream of texts and write a tokenizer directory atomically;
* :mod:`tokenizer.corpus` - stream texts out of Parquet corpora and JSONL, with sampling;
* :mod:`tokenizer.special_tokens` - default, FIM and SOCIAL-CHEM special tokens, their order;
* :mod:`tokenizer.load` - ``load_tokenizer(dir)``, ``load_hf(dir)``, ``TokenizerInfo(dir)``;
* :mod:`tokenizer.text_only` - a copy of a tokenizer that encodes special-token spellings as text;
* :mod:`tokenizer.report` - ``inspect``: vocabulary, special tokens, metrics on a sample;
* :mod:`tokenizer.cli` - the command line.

User documentation: docs/tokenizer.md.
"""
