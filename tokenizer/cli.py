"""``python -m tokenizer train|encode|inspect``: the command line of the tokenizer tools."""

from __future__ import annotations

import argparse
import io
import json
import sys
import time

from pipeline import fileio
from tokenizer.corpus import CorpusError
from tokenizer.load import TokenizerDirError
from tokenizer.special_tokens import FIM_TOKENS, MODELS
from tokenizer.train import UsageError

DESCRIPTION = """\
Train, use and inspect tokenizers (Hugging Face `tokenizers` format) for corpusforge corpora.

commands:
  train    train a byte-level BPE, WordPiece or Unigram tokenizer on corpora (Parquet, JSONL)
  encode   print the token ids (and tokens) of a text
  inspect  vocabulary, special tokens and, on a sample, fertility / bytes per token / round trip

examples:
  python -m tokenizer train --input out/web --output tok --model bpe --vocab-size 32000
  python -m tokenizer encode tok --text "Hello world"
  python -m tokenizer inspect tok --sample out/web --max-docs 1000

`python -m tokenizer COMMAND --help` shows each command's options."""

TRAIN_EPILOG = f"""\
inputs (--input, repeatable): a corpus directory (its data/*.parquet), a glob (quote it),
or single .parquet / .jsonl[.gz|.zst] files. Texts are streamed, never loaded at once.

special tokens get ids 0..k-1 in this order: the model's core tokens
(bpe: eod, pad; unigram: eod, pad, unk; wordpiece: [UNK] [CLS] [SEP] [PAD] [MASK], with
[SEP] as end of document), then --fim ({' '.join(FIM_TOKENS)}),
then --socialchem-tokens (markers and SOCIAL-CHEM attribute tokens, see
tokenizer/special_tokens.py), then each --special-token in order.

examples:
  # GPT-2 style byte-level BPE, 32k, with fill-in-the-middle tokens
  python -m tokenizer train --input out/web --output tok/web-32k --model bpe --vocab-size 32000 --fim

  # several corpora and a JSONL dump whose text is in "content"; a 10% sample
  python -m tokenizer train --input out/web --input out/kg --input 'dumps/*.jsonl.gz' \\
      --text-field content --sample-fraction 0.1 --seed 1 --output tok/mix --model bpe --vocab-size 50000

  # BERT-style WordPiece, lower-cased
  python -m tokenizer train --input out/web --output tok/wp --model wordpiece --vocab-size 30522 --lowercase

  # Unigram with the SOCIAL-CHEM attribute tokens and an extra token
  python -m tokenizer train --input out/socialchem --output tok/sc --model unigram --vocab-size 16000 \\
      --socialchem-tokens --special-token '<|sep|>'

writes DIR/tokenizer.json, DIR/special_tokens_map.json and DIR/tokenizer_config.json
(atomically); DIR must be new or empty unless --overwrite."""

ENCODE_EPILOG = """\
examples:
  python -m tokenizer encode tok --text "Hello world"
  python -m tokenizer encode tok --file doc.txt --ids-only
  echo "from stdin" | python -m tokenizer encode tok --file -

prints `ids: [...]` and `tokens: [...]` (JSON), or with --ids-only one line of
space-separated ids; the summary goes to stderr."""

INSPECT_EPILOG = """\
examples:
  python -m tokenizer inspect tok
  python -m tokenizer inspect tok --sample out/web --max-docs 2000
  python -m tokenizer inspect tok --sample 'dumps/*.jsonl' --text-field content --json

metrics on the sample: fertility (tokens per whitespace word), bytes and characters per
token, exact round trip (decode(encode(text)) == text; byte-level BPE must reach 100%),
normalized round trip (after the tokenizer's normalizer, whitespace ignored: what WordPiece
and Unigram can reach) and the unknown-token rate."""


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an integer") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value!r} must be at least 1")
    return n


def _fraction(value: str) -> float:
    try:
        f = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0.0 < f <= 1.0:
        raise argparse.ArgumentTypeError(f"{value!r} must be in (0, 1]")
    return f


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="python -m tokenizer", description=DESCRIPTION, formatter_class=fmt)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    t = sub.add_parser("train", help="train a tokenizer on corpora", description="Train a tokenizer on corpora.",
                       epilog=TRAIN_EPILOG, formatter_class=fmt)
    t.add_argument("--input", action="append", required=True, metavar="CORPUS",
                   help="corpus directory, glob or file (repeatable)")
    t.add_argument("--output", required=True, metavar="DIR", help="tokenizer directory to write")
    t.add_argument("--model", required=True, choices=MODELS, help="bpe (byte-level), wordpiece or unigram")
    t.add_argument("--vocab-size", required=True, type=_positive_int, metavar="N",
                   help="vocabulary size, special tokens included")
    t.add_argument("--text-field", default="text", metavar="NAME",
                   help="Parquet column / JSON field of the text (default: %(default)s)")
    t.add_argument("--id-field", default="id", metavar="NAME",
                   help="column / field of the document id, used as the sampling key when present "
                        "(default: %(default)s; else file name and position)")
    t.add_argument("--eod-token", metavar="TOKEN",
                   help="end-of-document token (default: <|endoftext|>; wordpiece: [SEP])")
    t.add_argument("--pad-token", metavar="TOKEN", help="padding token (default: <|pad|>; wordpiece: [PAD])")
    t.add_argument("--unk-token", metavar="TOKEN", help="unknown token (unigram: default <unk>; wordpiece: [UNK])")
    t.add_argument("--fim", action="store_true", help="add the fill-in-the-middle tokens " + " ".join(FIM_TOKENS))
    t.add_argument("--socialchem-tokens", action="store_true",
                   help="add the SOCIAL-CHEM-101 markers and attribute tokens (<rot-agree:most>, ...)")
    t.add_argument("--special-token", action="append", default=[], metavar="TOKEN",
                   help="an extra special token (repeatable; ids after the others, in order)")
    t.add_argument("--lowercase", action=argparse.BooleanOptionalAction, default=None,
                   help="wordpiece: lower-case (and strip accents) in the normalizer (default: no)")
    t.add_argument("--min-frequency", type=int, default=2, metavar="N",
                   help="bpe/wordpiece: a pair must occur this often to be merged (default: %(default)s)")
    t.add_argument("--limit-alphabet", type=_positive_int, metavar="N",
                   help="wordpiece: keep at most N initial characters (default: all)")
    t.add_argument("--model-max-length", type=_positive_int, default=2048, metavar="N",
                   help="model_max_length in tokenizer_config.json (default: %(default)s)")
    t.add_argument("--max-docs", type=_positive_int, metavar="N", help="stop after N documents (after sampling)")
    t.add_argument("--sample-fraction", type=_fraction, default=1.0, metavar="F",
                   help="keep this fraction of documents, chosen by a hash of (seed, id) (default: 1)")
    t.add_argument("--seed", type=int, default=0, help="sampling seed (default: %(default)s)")
    t.add_argument("--overwrite", action="store_true", help="replace an existing tokenizer directory")
    t.add_argument("--no-progress", action="store_true", help="no progress bar (per-file lines stay)")
    t.add_argument("--quiet", action="store_true", help="only the final summary")

    e = sub.add_parser("encode", help="print the ids and tokens of a text", description="Encode a text.",
                       epilog=ENCODE_EPILOG, formatter_class=fmt)
    e.add_argument("directory", metavar="DIR", help="tokenizer directory")
    src = e.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help="the text to encode")
    src.add_argument("--file", metavar="PATH", help="encode this UTF-8 file (local, gs://, s3://) as one text ('-': stdin)")
    e.add_argument("--ids-only", action="store_true", help="print only the ids, space-separated")
    e.add_argument("--no-special-tokens", action="store_true",
                   help="do not let the post-processor add special tokens (wordpiece's [CLS]/[SEP])")

    i = sub.add_parser("inspect", help="describe a tokenizer, measure it on a sample",
                       description="Describe a tokenizer directory; measure it on a sample.",
                       epilog=INSPECT_EPILOG, formatter_class=fmt)
    i.add_argument("directory", metavar="DIR", help="tokenizer directory")
    i.add_argument("--sample", action="append", metavar="CORPUS",
                   help="corpus directory, glob or file to measure on (repeatable)")
    i.add_argument("--max-docs", type=_positive_int, default=1000, metavar="N",
                   help="documents of the sample to use (default: %(default)s)")
    i.add_argument("--text-field", default="text", metavar="NAME", help="column / field of the text")
    i.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def cmd_train(args: argparse.Namespace) -> int:
    from tokenizer.train import TrainConfig, train

    config = TrainConfig(
        inputs=args.input, output=args.output, model=args.model, vocab_size=args.vocab_size,
        text_field=args.text_field, id_field=args.id_field or None, eod_token=args.eod_token,
        pad_token=args.pad_token, unk_token=args.unk_token, fim=args.fim, socialchem=args.socialchem_tokens,
        special_tokens=args.special_token, lowercase=args.lowercase, min_frequency=args.min_frequency,
        limit_alphabet=args.limit_alphabet, model_max_length=args.model_max_length, max_docs=args.max_docs,
        sample_fraction=args.sample_fraction, seed=args.seed, overwrite=args.overwrite,
        # the tokenizers progress bar needs a terminal (without one it only prints blank lines to stdout)
        show_progress=not (args.no_progress or args.quiet) and sys.stderr.isatty())
    result = train(config, log=None if args.quiet else _stderr)
    print(result.summary())
    return 0


def cmd_encode(args: argparse.Namespace) -> int:
    from tokenizer.load import TokenizerInfo, load_tokenizer

    t0 = time.perf_counter()
    tok = load_tokenizer(args.directory)
    info = TokenizerInfo(args.directory)
    if args.text is not None:
        text, what = args.text, "--text"
    elif args.file == "-":
        text, what = sys.stdin.read(), "stdin"
    else:
        try:
            with io.TextIOWrapper(fileio.open_read(args.file), encoding="utf-8") as fh:  # local, gs://, s3://
                text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--file {args.file}: cannot read it as UTF-8 text ({exc})") from exc
        what = args.file
    enc = tok.encode(text, add_special_tokens=not args.no_special_tokens)
    if args.ids_only:
        print(" ".join(map(str, enc.ids)))
    else:
        print("ids:    " + json.dumps(enc.ids))
        print("tokens: " + json.dumps(enc.tokens, ensure_ascii=False))
    _stderr(f"encode: {what}, {len(text):,} chars ({len(text.encode('utf-8')):,} bytes) -> {len(enc.ids):,} tokens "
            f"with {args.directory} ({info.model}, vocabulary {info.vocab_size:,}) in {time.perf_counter() - t0:.2f} s")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from tokenizer.report import inspect_dir, render

    report = inspect_dir(args.directory, sample=args.sample, max_docs=args.max_docs, text_field=args.text_field,
                         log=None if args.json else _stderr)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(render(report))
        what = f"; sampled {report['sample']['docs']:,} documents" if "sample" in report else ""
        print(f"inspected {args.directory}{what} in {report['seconds']:.2f} s")
    return 0


COMMANDS = {"train": cmd_train, "encode": cmd_encode, "inspect": cmd_inspect}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.command](args)
    except (UsageError, CorpusError, TokenizerDirError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130
