"""``pip install`` of the wheel (not editable) gives working console commands, away from the checkout.

The wheel is built offline from a copy of this checkout and installed into a fresh venv; the heavy
dependencies (torch, hydra, ...) are borrowed from the venv running the tests through a ``.pth`` line
instead of being downloaded again. Every command runs from a folder outside the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import torch

from asr_cnn.audio import save_audio
from asr_cnn.config import compose_config
from asr_cnn.models.spotter import KeywordSpotter

pytestmark = pytest.mark.slow  # builds a wheel and a venv, then starts four processes

REPO = Path(__file__).resolve().parents[1]
BUILD_FILES = ("pyproject.toml", "setup.py", "README.md")
PACKAGE_DIRS = ("asr_cnn", "conf")  # conf/ is installed as asr_cnn/conf
TIMEOUT_S = 300


def run(*argv: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "HYDRA_FULL_ERROR")}
    return subprocess.run([str(arg) for arg in argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_S)


def checked(done: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh venv with the wheel of this checkout installed and this venv's packages importable."""
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "source"  # a copy: building in the checkout would leave build/ and *.egg-info in it
    for name in PACKAGE_DIRS:
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in BUILD_FILES:
        shutil.copy(REPO / name, source / name)
    checked(run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                "-w", tmp / "wheels", source))
    venv = tmp / "venv"
    checked(run(sys.executable, "-m", "venv", "--without-pip", venv))
    python = venv / "bin" / "python"
    checked(run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
                *(tmp / "wheels").glob("asr_cnn-*.whl")))
    site = checked(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")).stdout.strip()
    ours = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}  # this venv's packages, not its .pth files
    (Path(site) / "borrowed_dependencies.pth").write_text("".join(f"{path}\n" for path in sorted(ours)))
    return venv


@pytest.fixture
def elsewhere(tmp_path) -> Path:
    """A working folder outside the checkout."""
    assert REPO not in tmp_path.parents
    return tmp_path


def test_the_installed_package_is_imported_with_its_configs_and_real_speech(venv, elsewhere):
    done = checked(run(venv / "bin" / "python", "-c",
                       "import asr_cnn, asr_cnn.config as c, asr_cnn.data.corpus.realnegatives as r; "
                       "print(asr_cnn.__file__); print(c.CONF_DIR); print(r.SPEECHOCEAN_DIR)", cwd=elsewhere))
    module, conf, speechocean = (Path(line) for line in done.stdout.splitlines())
    assert venv in module.parents and REPO not in module.parents
    assert (conf / "train.yaml").is_file() and venv in conf.parents
    shipped = sorted((REPO / "asr_cnn" / "data" / "assets" / "speechocean762").rglob("*.opus"))
    assert venv in speechocean.parents and len(shipped) == 5245
    assert all((speechocean / path.relative_to(shipped[0].parents[2])).is_file() for path in shipped)
    assert (speechocean / "NOTICE.md").is_file() and (speechocean / "manifest.csv").is_file()


def test_train_command_shows_its_config(venv, elsewhere):
    done = checked(run(venv / "bin" / "asr-cnn-train", "--cfg", "job", "trainer.max_epochs=7", cwd=elsewhere))
    assert "trainer:" in done.stdout and "max_epochs: 7" in done.stdout


def test_detect_command_scans_a_file(venv, elsewhere):
    model, audio = elsewhere / "model.pt", elsewhere / "noise.wav"
    KeywordSpotter.from_config(compose_config("train", ["experiment=tiny"])).save(model)
    save_audio(audio, 0.1 * torch.randn(3 * 16_000, generator=torch.Generator().manual_seed(0)))
    done = checked(run(venv / "bin" / "asr-cnn-detect", f"checkpoint={model}", f"input={audio}",
                       "detector.threshold=0.0", cwd=elsewhere))  # threshold 0: every keyword fires
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert events and all(event["file"] == str(audio) for event in events)


def test_detect_command_names_a_missing_input_in_one_line(venv, elsewhere):
    done = run(venv / "bin" / "asr-cnn-detect", "input=/nonexistent.wav", cwd=elsewhere)
    assert done.returncode != 0
    assert done.stderr.startswith("asr-cnn-detect: error: /nonexistent.wav") and done.stderr.count("\n") == 1
