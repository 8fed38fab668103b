"""SOCIAL-CHEM-101-style annotated sets: situations, rules of thumb and 12-dimension breakdowns.

``schema`` defines the release's 25 columns; the other modules are the steps of the
``socialchem`` job (see ``job.py`` and docs/socialchem.md).
"""
