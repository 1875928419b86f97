"""Real-speech evaluation: ``python recipes/evaluate_real.py checkpoint=<model.pt> set=<dir>``.

The same command is installed as ``asr-cnn-evaluate-real``; see :mod:`asr_cnn.recipes.evaluate_real`.
"""

from asr_cnn.recipes.evaluate_real import main

if __name__ == "__main__":
    main()
