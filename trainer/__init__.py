"""The bundled torch.distributed pretraining trainer: a GPT trained on the token shards, mixing corpora.

Read in this order: ``config.py`` (settings), ``model.py`` (the GPT), ``optim.py`` (AdamW and the schedule),
``data.py`` (the data interface: opening, streaming, mixing, objectives), ``distributed.py`` (torchrun,
DDP/FSDP2), ``train.py`` (the loop), ``checkpoint.py`` (atomic checkpoints, resume,
``load_model_for_inference``); ``plan.py`` and ``plot.py`` are the ``plan`` and ``plot`` commands of
``python -m trainer``. See docs/trainer.md.
"""
