"""Test launcher: ``python -m tests.trainer_slow_steps SECONDS [trainer arguments]`` is ``python -m trainer``
with a pause of SECONDS after every training step, so a test can kill a run between two checkpoints. The pause
lives here, wrapped around the step by the test's own process; the trainer reads no such setting."""

from __future__ import annotations

import sys
import time

from trainer.__main__ import leave
from trainer.__main__ import main as trainer_main
from trainer.train import Trainer


def slow_steps(seconds: float) -> None:
    """Make every :meth:`Trainer._train_step` of this process take ``seconds`` longer."""
    step = Trainer._train_step

    def slow(self, batches):
        result = step(self, batches)
        time.sleep(seconds)
        return result

    Trainer._train_step = slow


if __name__ == "__main__":
    slow_steps(float(sys.argv[1]))
    leave(trainer_main(sys.argv[2:]))
