"""Compression told by a stream's first bytes (pipeline.compression.detect_compression): the name
counts only for the formats without a magic number (raw .deflate, legacy .lzma)."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib

import pytest
import zstandard

from pipeline.compression import MAGIC_BYTES, detect_compression, sniff_compression

TEXT = b"1\tsome passage text\n" * 20


@pytest.mark.parametrize("data,name,kind", [
    (gzip.compress(TEXT), "c.tsv", "gzip"), (TEXT, "c.tsv.gz", "none"), (zstandard.compress(TEXT), "c", "zstd"),
    (lzma.compress(TEXT), "c.json", "xz"), (bz2.compress(TEXT), "c.txt", "bz2"), (bz2.compress(b""), "e", "bz2"),
    (b"BZh9 not bzip2\n", "c.tsv.bz2", "none"), (b"\xfd7zX", "c.tsv.xz", "none"),
    (zlib.compress(TEXT), "c.tsv.deflate", "deflate"), (lzma.compress(TEXT, format=lzma.FORMAT_ALONE), "c.lzma", "lzma"),
    (b"", "c.tsv.gz", "none"),
])
def test_detect_by_magic_bytes_then_name_for_formats_without_one(data, name, kind):
    assert detect_compression(data[:MAGIC_BYTES], name) == kind


def test_four_bytes_still_tell_gzip_and_zstd_only():
    """The stream readers peek 4 bytes: they see gzip and zstd as before, anything else as plain."""
    assert sniff_compression(gzip.compress(TEXT)[:4]) == "gzip"
    assert sniff_compression(zstandard.compress(TEXT)[:4]) == "zstd"
    assert sniff_compression(bz2.compress(TEXT)[:4]) == sniff_compression(lzma.compress(TEXT)[:4]) == "none"
