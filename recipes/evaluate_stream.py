"""Wake-word metrics over long streams: ``python recipes/evaluate_stream.py checkpoint=<path> streams=<dir>``.

The same command is installed as ``asr-cnn-evaluate-stream``; see :mod:`asr_cnn.recipes.evaluate_stream`.
"""

from asr_cnn.recipes.evaluate_stream import main

if __name__ == "__main__":
    main()
