"""Shared fixtures: a tiny synthesized corpus and a spotter trained on it, each made once per session;
every test runs on one torch thread (``one_thread``).

    def test_something(tiny_corpus, tiny_checkpoint): ...

``tiny_corpus`` is the corpus folder built from ``conf/data/tiny.yaml``; ``tiny_checkpoint`` is the
``model.pt`` of ``experiment=tiny`` trained on it (its run directory, with metrics, plots and the resume
checkpoint, is ``tiny_checkpoint.parent``). Build configs for the same corpus with ``tiny_overrides``.
Building them takes seconds of synthesis and training, so every test that uses either is marked
``slow`` here (``make test-fast`` leaves it out).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from asr_cnn.config import compose_config
from asr_cnn.targets import add_model_packages
from asr_cnn.threads import torch_threads

add_model_packages("tiny_body")  # the tests' own body, saved in their checkpoints

SLOW_FIXTURES = {"tiny_corpus", "tiny_checkpoint"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``slow`` every test that needs the synthesized corpus or the trained checkpoint."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def tiny_overrides(corpus: Path, run_dir: Path, *extra: str) -> list[str]:
    """Overrides of ``conf/train.yaml`` for the tiny experiment on ``corpus``, writing into ``run_dir``."""
    return ["experiment=tiny", f"data.root={corpus}", f"run_dir={run_dir}", *extra]


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """One torch thread for every test, restored after it: the suite's tensors are small, and on a shared
    machine extra threads make them many times slower (see :func:`asr_cnn.threads.torch_threads`)."""
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
