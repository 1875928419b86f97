"""Scan sound files for keywords: ``python recipes/detect.py checkpoint=<path> input=<wav or folder>``.

The same command is installed as ``asr-cnn-detect``; see :mod:`asr_cnn.recipes.detect`.
"""

from asr_cnn.recipes.detect import main

if __name__ == "__main__":
    main()
