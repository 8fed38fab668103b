"""Tiny, randomly initialised Hugging Face models the tests build and save themselves (no downloads)."""

from __future__ import annotations

import os

SENTENCES = [
    "Marie Curie was born in Warsaw in 1867.",
    "The river flows through the old town and past the mill.",
    "What is the capital of France? Paris is the capital of France.",
    "how to bake bread at home with yeast flour water and salt",
]


def make_tiny_tokenizer(path: str, vocab_size: int = 300):
    """A byte-level BPE tokenizer with T5-style special tokens (<pad> 0, </s> 1, <unk> 2), saved to ``path``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<pad>", "</s>", "<unk>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(SENTENCES * 4, trainer)
    from tokenizers.processors import TemplateProcessing

    tok.post_processor = TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
    os.makedirs(path, exist_ok=True)
    fast.save_pretrained(path)
    return fast


def make_tiny_seq2seq(path: str, seed: int = 0) -> str:
    """A one-layer T5 (d_model 16) and its tokenizer saved with save_pretrained to ``path``; returns ``path``."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    tokenizer = make_tiny_tokenizer(path)
    torch.manual_seed(seed)
    config = T5Config(vocab_size=len(tokenizer), d_model=16, d_ff=32, d_kv=8, num_layers=1, num_decoder_layers=1,
                      num_heads=2, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    T5ForConditionalGeneration(config).save_pretrained(path)
    return path
