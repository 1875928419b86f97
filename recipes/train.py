"""Train a keyword spotter: ``python recipes/train.py [experiment=<name>] [key=value ...]``.

The same command is installed as ``asr-cnn-train``; see :mod:`asr_cnn.recipes.train`.
"""

from asr_cnn.recipes.train import main

if __name__ == "__main__":
    main()
