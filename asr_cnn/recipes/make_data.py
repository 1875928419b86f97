"""Build the keyword corpus of a data config (and its long test streams).

    python recipes/make_data.py                                   # conf/data/default.yaml -> data/synth11
    python recipes/make_data.py data=tiny                         # seconds, for tests and CI
    python recipes/make_data.py data.keywords='[hey jarvis, lights on]' data.name=jarvis
    python recipes/make_data.py data.root=/srv/corpora/kws

A second run with the same config does nothing (the corpus is content-addressed).
"""

from __future__ import annotations

import logging

from hydra.utils import to_absolute_path
from omegaconf import DictConfig

from asr_cnn.data.corpus.build import build_corpus, summarize
from asr_cnn.recipes.errors import recipe

log = logging.getLogger(__name__)


@recipe("make_data")
def main(cfg: DictConfig) -> None:
    cfg.data.root = to_absolute_path(cfg.data.root)  # relative to where the user ran, even if Hydra chdir'd
    report = build_corpus(cfg.data)
    log.info("%s\n%s", report.root, summarize(report.records()))

