"""Build the keyword corpus of a data config (and its long test streams).

The same command is installed as ``asr-cnn-make-data``; see :mod:`asr_cnn.recipes.make_data`.
"""

from asr_cnn.recipes.make_data import main

if __name__ == "__main__":
    main()
