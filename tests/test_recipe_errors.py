"""Every recipe turns a user's mistake into one line on standard error and exit status 2 (as the README says).

Each recipe runs once, as a real process, with one typical mistake; a few processes run side by side, and one
that outlives its time limit is killed and fails its case. With ``HYDRA_FULL_ERROR=1`` the traceback comes back.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from asr_cnn.audio import save_audio
from asr_cnn.config import compose_config
from asr_cnn.data.corpus.manifest import Record, write_manifest
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.recipes.errors import one_line
from asr_cnn.training.config import trainer_config
from asr_cnn.training.loop import train

REPO = Path(__file__).resolve().parents[1]
PROCESS_TIMEOUT_S = 300  # one process importing torch on a loaded machine takes ~10 s; a hung one is killed
PARALLEL_PROCESSES = 3  # side by side, not all twelve at once: on 2 busy cores each one's clock still runs
README_EXIT_STATUS = 2


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stderr: str
    recipe: str
    names: str  # what the error line must name


def mistakes(tmp: Path) -> dict[str, tuple[str, list[str], str]]:
    """Case name -> (recipe, overrides, what the error line must name), with the files the cases need."""
    model = tmp / "model.pt"
    KeywordSpotter.from_config(compose_config("train", ["experiment=tiny"])).save(model)
    save_audio(tmp / "speech.wav", torch.zeros(16_000))
    listed = tmp / "listed"  # a corpus whose manifest lists test clips that are not there
    write_manifest(listed, [Record(listed / "yes" / "a_nohash_0.wav", "yes", "espeak", "en-us", "test")])
    (tmp / "a_file").write_text("not a folder")
    (tmp / "clips").mkdir()
    return {
        "make_data": ("make_data", ["data=tiny", f"data.root={tmp / 'corpus'}", "data.keywords=[yes,'']"],
                      "data.keywords"),
        "train": ("train", ["experiment=tiny", "trainer.max_epochs=abc"], "trainer.max_epochs must be an integer"),
        "combine": ("combine", [f"members=[{model}]"], "member 0: only speech_embedding_tdnn models"),
        "evaluate": ("evaluate", [f"checkpoint={model}", f"data.root={listed}", "split=test"],
                     f"{listed} (test): none of its 1 clips is readable"),
        "evaluate_real": ("evaluate_real", [f"checkpoint={model}", f"positives={tmp / 'clips'}", "keyword=maybe"],
                          "keyword='maybe'"),
        "evaluate_stream": ("evaluate_stream", [f"checkpoint={model}", f"streams={tmp / 'no_streams'}"],
                            str(tmp / "no_streams")),
        "detect": ("detect", [f"checkpoint={model}", "input=/nonexistent.wav"], "/nonexistent.wav"),
        "detect_checkpoint": ("detect", ["checkpoint=README.md", f"input={tmp / 'speech.wav'}"],
                              "README.md: not a checkpoint"),
        "detect_runtime": ("detect", [f"checkpoint={model}", f"input={tmp / 'speech.wav'}", "detector.runtime=bogus"],
                           "detector.runtime must be auto, fast or eager, got 'bogus'"),
        "listen": ("listen", [f"checkpoint={tmp / 'missing.pt'}"], f"{tmp / 'missing.pt'}: no such checkpoint"),
        "export": ("export", [f"checkpoint={model}", f"output={tmp / 'a_file' / 'kws.onnx'}"], str(tmp / "a_file")),
    }


def command(recipe: str, overrides: list[str], run_dir: Path) -> list[str]:
    return [sys.executable, str(REPO / "recipes" / f"{recipe}.py"), *overrides, f"hydra.run.dir={run_dir}"]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, Outcome]:
    """Every case's exit status and standard error, plus ``full_error``: detect's with HYDRA_FULL_ERROR=1."""
    tmp = tmp_path_factory.mktemp("mistakes")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    env.pop("HYDRA_FULL_ERROR", None)
    cases = mistakes(tmp)
    runs = {name: (command(recipe, overrides, tmp / f"run_{name}"), env) for name, (recipe, overrides, _) in cases.items()}
    runs["full_error"] = (command("detect", ["input=/nonexistent.wav"], tmp / "run_full"), {**env, "HYDRA_FULL_ERROR": "1"})
    names = {name: (recipe, named) for name, (recipe, _, named) in cases.items()} | {
        "full_error": ("detect", "/nonexistent.wav")}

    def run(name: str) -> Outcome:
        argv, run_env = runs[name]
        try:
            done = subprocess.run(argv, cwd=REPO, env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True, timeout=PROCESS_TIMEOUT_S)
        except subprocess.TimeoutExpired:  # killed by subprocess.run: its case fails instead of hanging
            return Outcome(-1, f"no exit within {PROCESS_TIMEOUT_S} s: {argv}", *names[name])
        return Outcome(done.returncode, done.stderr, *names[name])

    with ThreadPoolExecutor(PARALLEL_PROCESSES) as pool:
        return dict(zip(runs, pool.map(run, runs)))


@pytest.mark.slow  # twelve processes that each import torch
@pytest.mark.parametrize("case", ["make_data", "train", "combine", "evaluate", "evaluate_real", "evaluate_stream",
                                  "detect", "detect_checkpoint", "detect_runtime", "listen", "export"])
def test_a_mistake_is_one_line_naming_the_value(outcomes, case):
    outcome = outcomes[case]
    assert outcome.returncode == README_EXIT_STATUS, outcome.stderr
    assert outcome.stderr.count("\n") == 1 and "Traceback" not in outcome.stderr, outcome.stderr
    assert outcome.stderr.startswith(f"{outcome.recipe}.py: error: ")
    assert outcome.names in outcome.stderr


@pytest.mark.slow
def test_hydra_full_error_gives_the_traceback(outcomes):
    outcome = outcomes["full_error"]
    assert outcome.returncode != 0
    assert "Traceback" in outcome.stderr and "AudioError" in outcome.stderr and outcome.names in outcome.stderr


def test_a_bad_trainer_value_fails_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="trainer.max_epochs must be an integer >= 1, got 'abc'"):
        train(compose_config("train", ["experiment=tiny", f"data.root={tmp_path / 'corpus'}",
                                       f"run_dir={tmp_path / 'run'}", "trainer.max_epochs=abc"]))
    assert not any(tmp_path.iterdir())  # no corpus was built, no run directory made


@pytest.mark.parametrize("override, message", [
    ("trainer.max_epochs=abc", "trainer.max_epochs must be an integer >= 1, got 'abc'"),
    ("trainer.live.tail_s=[1]", "trainer.live.tail_s must be a range [low, high] of seconds with 0 <= low <= high, "
                                "got [1.0]"),
])
def test_a_bad_override_fails_in_one_line_naming_the_key(override, message):
    """Composing refuses the type (the schema); the range is checked when training reads its settings."""
    with pytest.raises(ValueError) as raised:
        trainer_config(compose_config("train", ["experiment=tiny", override]).trainer)
    assert str(raised.value) == message


def test_an_operating_system_error_reads_as_file_and_reason():
    assert one_line(PermissionError(13, "Permission denied", "/srv/kws.onnx")) == "/srv/kws.onnx: Permission denied"
    assert one_line(FileNotFoundError("/x.pt: no such checkpoint")) == "/x.pt: no such checkpoint"
    assert one_line(ValueError("two\n  lines")) == "two lines"
