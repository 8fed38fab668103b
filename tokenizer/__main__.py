"""``python -m tokenizer``: see :mod:`tokenizer.cli`."""

from tokenizer.cli import main

raise SystemExit(main())
