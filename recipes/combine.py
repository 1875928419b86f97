"""Combine trained models into one calibrated ensemble: ``python recipes/combine.py members=[a.pt,b.pt] ...``.

The same command is installed as ``asr-cnn-combine``; see :mod:`asr_cnn.recipes.combine`.
"""

from asr_cnn.recipes.combine import main

if __name__ == "__main__":
    main()
