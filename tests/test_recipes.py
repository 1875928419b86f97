"""The recipes' library functions end to end on the tiny corpus, plus the train recipe as a process:
resumed after SIGKILL, and under torchrun with two gloo processes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from asr_cnn.config import compose_config
from asr_cnn.evaluation.clips import evaluate
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.training.checkpointing import RESUME_NAME

REPO = Path(__file__).resolve().parents[1]
TRAIN_RECIPE = REPO / "recipes" / "train.py"
RUN_FILES = ("model.pt", RESUME_NAME, "metrics.json", "confusion_matrix.png", "training_curves.png", "summary.md",
             "report.md")
POLL_S = 0.05  # each poll reads the resume checkpoint
PROCESS_TIMEOUT_S = 120


def recipe_env() -> dict[str, str]:
    """The environment for a recipe subprocess: the repository importable whatever the install."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def train_command(corpus: Path, run_dir: Path, *extra: str) -> list[str]:
    return [str(TRAIN_RECIPE), "experiment=tiny", f"data.root={corpus}", f"hydra.run.dir={run_dir}", *extra]


def weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True)["state_dict"]


def test_train_writes_the_run_directory(tiny_checkpoint):
    run_dir = tiny_checkpoint.parent
    for name in RUN_FILES:
        assert (run_dir / name).stat().st_size > 0, name
    assert list((run_dir / "tensorboard").glob("events.out.tfevents.*"))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert set(metrics["splits"]) == {"validation", "test", "test_engine"}
    for split in ("test", "test_engine"):
        report = metrics["splits"][split]
        assert 0.0 <= report["accuracy"] <= 1.0 and report["n"] > 0
        assert set(report["per_class"]) == set(metrics["labels"])
        assert report["per_engine"]
    assert len(metrics["history"]) == compose_config("train", ["experiment=tiny"]).trainer.max_epochs
    report = (run_dir / "report.md").read_text()
    assert "](confusion_matrix.png)" in report and "](training_curves.png)" in report and "test_engine" in report


def test_checkpoint_round_trip_gives_the_same_scores(tiny_checkpoint, tmp_path):
    spotter = KeywordSpotter.load(tiny_checkpoint)
    wave = 0.1 * torch.randn(3, spotter.window_samples, generator=torch.Generator().manual_seed(0))
    spotter.save(tmp_path / "again.pt")
    again = KeywordSpotter.load(tmp_path / "again.pt")
    assert again.labels == spotter.labels
    torch.testing.assert_close(again(wave), spotter(wave), rtol=0, atol=0)
    resume = torch.load(tiny_checkpoint.parent / RESUME_NAME, weights_only=True)
    assert all(torch.equal(resume["model"][k], v) for k, v in weights(tiny_checkpoint).items())


def test_evaluate_splits_and_audio_dir(tiny_checkpoint, tiny_corpus, tmp_path):
    metrics = json.loads((tiny_checkpoint.parent / "metrics.json").read_text())
    cfg = compose_config("evaluate", [f"checkpoint={tiny_checkpoint}", f"data.root={tiny_corpus}",
                                      "split=[test,test_engine]", f"run_dir={tmp_path}"])
    result = evaluate(cfg)
    for split in ("test", "test_engine"):
        assert result["splits"][split]["accuracy"] == metrics["splits"][split]["accuracy"]
    assert json.loads((tmp_path / "evaluation.json").read_text())["splits"]["test"]["n"] == metrics["splits"]["test"]["n"]

    folder = compose_config("evaluate", [f"checkpoint={tiny_checkpoint}", f"audio_dir={tiny_corpus / 'yes'}",
                                         f"run_dir={tmp_path}"])
    files = evaluate(folder)["audio_dir"]
    assert files["files"] and not files["errors"]
    assert files["n_scored"] == 0  # files directly in the folder carry no label


def saved_epoch(run_dir: Path) -> int:
    """The epoch the run's resume checkpoint continues from; -1 before there is one (it is written atomically)."""
    path = run_dir / RESUME_NAME
    return torch.load(path, weights_only=True)["progress"]["epoch"] if path.exists() else -1


@pytest.mark.slow
def test_resume_after_sigkill_matches_an_uninterrupted_run(tiny_corpus, tiny_checkpoint, tmp_path):
    run_dir = tmp_path / "run"
    command = [sys.executable, *train_command(tiny_corpus, run_dir, "trainer.checkpoint_every_n_steps=1")]
    epochs = compose_config("train", ["experiment=tiny"]).trainer.max_epochs
    with open(tmp_path / "killed.log", "w") as log:
        process = subprocess.Popen(command, cwd=REPO, env=recipe_env(), stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + PROCESS_TIMEOUT_S
        while saved_epoch(run_dir) < 1 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(POLL_S)  # until a checkpoint inside the second epoch: a whole epoch is behind it
        process.send_signal(signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL, (tmp_path / "killed.log").read_text()
    assert not (run_dir / "model.pt").exists(), "the run finished before it could be killed"
    assert (run_dir / RESUME_NAME).exists(), f"no {RESUME_NAME} within {PROCESS_TIMEOUT_S} s"
    progress = torch.load(run_dir / RESUME_NAME, weights_only=True)["progress"]
    assert 1 <= progress["epoch"] < epochs and progress["step"] > 0

    done = subprocess.run(command, cwd=REPO, env=recipe_env(), capture_output=True, text=True,
                          timeout=PROCESS_TIMEOUT_S)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert f"at epoch {progress['epoch']}, step {progress['step']}" in output, output[-3000:]
    trained = [line for line in output.splitlines() if re.search(r"\bepoch \d+: ", line)]
    assert len(trained) == epochs - progress["epoch"] < epochs, trained  # only the epochs after the saved one
    resumed, uninterrupted = weights(run_dir / "model.pt"), weights(tiny_checkpoint)
    assert resumed.keys() == uninterrupted.keys()
    assert all(torch.equal(resumed[k], uninterrupted[k]) for k in resumed)


@pytest.mark.slow
def test_ddp_with_two_cpu_processes_writes_one_checkpoint(tiny_corpus, tmp_path):
    run_dir = tmp_path / "ddp"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               *train_command(tiny_corpus, run_dir, "trainer.max_epochs=1", "trainer.device=cpu")]
    done = subprocess.run(command, cwd=REPO, env=recipe_env(), capture_output=True, text=True,
                          timeout=PROCESS_TIMEOUT_S)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert [p.name for p in run_dir.glob("*.pt")] == ["model.pt"]
    assert len(json.loads((run_dir / "metrics.json").read_text())["history"]) == 1
    KeywordSpotter.load(run_dir / "model.pt")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_mixed_precision_training_writes_a_cpu_loadable_checkpoint(tiny_corpus, tmp_path):
    from asr_cnn.training.loop import train

    cfg = compose_config("train", ["experiment=tiny", f"data.root={tiny_corpus}", f"run_dir={tmp_path}",
                                   "trainer.device=cuda", "trainer.precision=16-mixed", "trainer.max_epochs=1"])
    result = train(cfg)
    assert result["metrics"]["device"].startswith("cuda")
    KeywordSpotter.load(result["model"], map_location="cpu")
