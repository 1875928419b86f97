"""Hydra entry points, installed as console commands (``asr-cnn-train``, ``asr-cnn-detect``, ...).

Each module composes its config from the package's ``conf/`` and hands it to one library function;
``recipes/<name>.py`` in a clone runs the same ``main``. Every command takes the same overrides.
"""
