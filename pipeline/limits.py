"""Size limits applied wherever input is untrusted (see docs/architecture.md, "The job shape")."""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Limits:
    """Upper bounds that protect workers from hostile or broken input."""

    max_record_bytes: int = 10 * 1024 * 1024  # one WARC record / HTTP payload
    max_line_bytes: int = 8 * 1024 * 1024  # one JSONL line
    max_doc_chars: int = 1_000_000  # one extracted document
    max_html_depth: int = 1024  # element nesting; main-content extraction is quadratic in depth

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"limit {name} must be a positive integer, got {value!r}")
