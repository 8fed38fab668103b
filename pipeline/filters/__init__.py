"""Quality filters (Gopher, C4, FineWeb, URL, PII), one module each, on the base in base.py."""
