"""Evaluate a checkpoint: ``python recipes/evaluate.py checkpoint=<model.pt> [split=test | audio_dir=<folder>]``.

The same command is installed as ``asr-cnn-evaluate``; see :mod:`asr_cnn.recipes.evaluate`.
"""

from asr_cnn.recipes.evaluate import main

if __name__ == "__main__":
    main()
