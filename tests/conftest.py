"""Shared fixtures: a tiny synthesized corpus and a spotter trained on it, each made once per session,
and ``one_thread`` for modules whose small tensor work runs faster on one torch thread.

    def test_something(tiny_corpus, tiny_checkpoint): ...

    pytestmark = pytest.mark.usefixtures("one_thread")   # every test of a module on one thread

``tiny_corpus`` is the corpus folder built from ``conf/data/tiny.yaml``; ``tiny_checkpoint`` is the
``model.pt`` of ``experiment=tiny`` trained on it (its run directory, with metrics, plots and the resume
checkpoint, is ``tiny_checkpoint.parent``). Build configs for the same corpus with ``tiny_overrides``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from asr_cnn.config import compose_config
from asr_cnn.targets import add_model_packages
from asr_cnn.threads import torch_threads

add_model_packages("tiny_body")  # the tests' own body, saved in their checkpoints


def tiny_overrides(corpus: Path, run_dir: Path, *extra: str) -> list[str]:
    """Overrides of ``conf/train.yaml`` for the tiny experiment on ``corpus``, writing into ``run_dir``."""
    return ["experiment=tiny", f"data.root={corpus}", f"run_dir={run_dir}", *extra]


@pytest.fixture
def one_thread() -> Iterator[None]:
    """One torch thread for the test, restored after it (see :func:`asr_cnn.threads.torch_threads` for why)."""
    with torch_threads(1):
        yield


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    """Folder of the tiny corpus (Speech Commands layout, manifest, background noise, one short stream)."""
    from asr_cnn.data import build_corpus

    root = tmp_path_factory.mktemp("corpus") / "tiny"
    return build_corpus(compose_config("train", tiny_overrides(root, root.parent / "unused")).data).root


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_corpus, tmp_path_factory) -> Path:
    """``model.pt`` of the tiny experiment, trained once on ``tiny_corpus``."""
    from asr_cnn.training.loop import train

    run_dir = tmp_path_factory.mktemp("tiny_run")
    result = train(compose_config("train", tiny_overrides(tiny_corpus, run_dir)))
    return Path(result["model"])
