"""Export a spotter's streaming step to ONNX: ``python recipes/export.py checkpoint=<path> output=<file.onnx>``.

The same command is installed as ``asr-cnn-export``; see :mod:`asr_cnn.recipes.export`.
"""

from asr_cnn.recipes.export import main

if __name__ == "__main__":
    main()
