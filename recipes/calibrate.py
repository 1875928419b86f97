"""Calibrate a trained model anew: ``python recipes/calibrate.py checkpoint=<model.pt> ...``.

The same command is installed as ``asr-cnn-calibrate``; see :mod:`asr_cnn.recipes.calibrate`.
"""

from asr_cnn.recipes.calibrate import main

if __name__ == "__main__":
    main()
