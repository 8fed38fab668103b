"""Tokenizer CLI (python -m tokenizer train|encode|inspect) - arrives with its issue."""
