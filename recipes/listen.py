"""Keyword events from the microphone: ``python recipes/listen.py checkpoint=<path>``.

The same command is installed as ``asr-cnn-listen``; see :mod:`asr_cnn.recipes.listen`.
"""

from asr_cnn.recipes.listen import main

if __name__ == "__main__":
    main()
