"""Arrow schemas of the document corpus and of the rejects (docs/architecture.md, "Data contracts")."""

import pyarrow as pa

CORPUS_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("url", pa.string(), nullable=True),
        pa.field("lang", pa.string(), nullable=False),
        pa.field("lang_score", pa.float32(), nullable=False),
        pa.field("meta", pa.string(), nullable=False),
    ]
)

REJECTS_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("stage", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("url", pa.string()),
        pa.field("source_file", pa.string()),
        pa.field("detail", pa.string()),
        pa.field("text", pa.string()),
    ]
)
