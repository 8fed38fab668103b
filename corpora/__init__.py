"""Corpus jobs, one module per corpus kind, each a short composition of pipeline/ stages."""
