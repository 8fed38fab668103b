"""Token shards: the pure core of the tokenize job's output (no Apache Beam import).

- The Megatron-LM indexed-dataset layout (``MMIDIDX`` version 1, one ``.bin`` + ``.idx`` pair
  per shard, readable unchanged by Megatron-LM's ``megatron/core/datasets/indexed_dataset.py``
  and GPT-NeoX's ``megatron/data/indexed_dataset.py``): :mod:`pipeline.shards.layout` (header,
  dtype codes), :mod:`pipeline.shards.writer` (``ShardWriter``: streamed, atomic, sha256 while
  writing, local or remote through :mod:`pipeline.fileio`), :mod:`pipeline.shards.reader`
  (``ShardReader``: memory-mapped, validated) and :mod:`pipeline.shards.verify`
  (``verify_shard``, ``verify_shards``); :mod:`pipeline.shards.megatron` re-exports them all.
- :mod:`pipeline.shards.manifest` -- ``build_shard_manifest`` (``manifest.json`` beside the
  shards: tokenizer, dtype, end-of-document id, per-shard counts and checksums, totals) and
  ``split_for`` (a stable train/val assignment by document id).
- :mod:`pipeline.shards.batches` -- documents as compact token batches: ``DocumentEncoder``
  (many texts per tokenizer call, text as text, marker spans as their ids, end-of-document
  appended), ``TokenBatch`` (ids, id hashes,
  lengths, tokens in one array; split by shard) and ``in_id_order`` (a shard's documents
  sorted by id, in write-sized chunks).
- :mod:`pipeline.shards.verify_cli` -- ``python beam_runner.py verify-shards DIR``.
"""
