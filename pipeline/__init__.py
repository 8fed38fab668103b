"""Reusable building blocks for corpus jobs: a pure core plus a thin Apache Beam shell.

Modules without ``beam`` in their name never import Apache Beam; they take and return
plain data and are tested directly. ``pipeline.beam_*`` modules adapt them to Beam.
"""

__version__ = "0.1.0"
