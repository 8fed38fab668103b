"""Deterministic document ids: the same input and config always give the same id."""

import hashlib


def make_doc_id(source: str, key: str) -> str:
    """Hash a record's stable key (WARC-Record-ID, or file name + position) into an id.

    The prefix keeps ids of different corpora apart when corpora are mixed.
    """
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
    return f"{source}-{digest}"
