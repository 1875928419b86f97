"""The Hydra configs, one YAML file per constructor: installed as the package ``asr_cnn.conf`` (see setup.py)."""
