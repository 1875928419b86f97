"""A checkpoint is a file someone else may have written: loading it builds the project's modules and nothing else."""

from __future__ import annotations

import copy
import zipfile
from pathlib import Path

import pytest
import torch
from detect_support import tiny_spotter

from asr_cnn import targets
from asr_cnn.config import compose_config
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.training.checkpointing import RESUME_NAME, load_resume, save_resume

PAYLOAD_REFUSED = r"(?s){} \(.*Unsupported global: GLOBAL exec"  # torch's weights-only unpickler names the call


class Payload:
    """Pickles as a call that writes ``marker``: what a malicious checkpoint runs when unpickled in full."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return exec, (f"open({str(self.marker)!r}, 'w').close()",)


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[Path, dict]:
    """A legitimate ``model.pt`` of the default model and the dict stored in it."""
    path = tmp_path_factory.mktemp("legit") / "model.pt"
    KeywordSpotter.from_config(compose_config("train", ["experiment=tiny"])).save(path)
    return path, torch.load(path, weights_only=True)


def crafted(saved: tuple[Path, dict], tmp_path: Path, edit) -> Path:
    """A copy of the legitimate checkpoint whose config ``edit`` changed in place."""
    checkpoint = copy.deepcopy(saved[1])
    edit(checkpoint["config"])
    path = tmp_path / "crafted.pt"
    torch.save(checkpoint, path)
    return path


def test_legitimate_checkpoint_loads(saved):
    path, checkpoint = saved
    spotter = KeywordSpotter.load(path)
    assert spotter.labels == checkpoint["labels"]
    loaded = spotter.state_dict()
    assert loaded.keys() == checkpoint["state_dict"].keys()
    assert all(torch.equal(loaded[key], value) for key, value in checkpoint["state_dict"].items())


def test_top_level_target_is_refused_before_it_runs(saved, tmp_path):
    pwned = tmp_path / "pwned"
    path = crafted(saved, tmp_path, lambda config: config.__setitem__(
        "frontend", {"_target_": "pathlib.Path.touch", "self": str(pwned)}))  # Hydra's own blocklist lets it through
    with pytest.raises(ValueError, match=r"crafted\.pt: refused _target_ 'pathlib\.Path\.touch'"):
        KeywordSpotter.load(path)
    assert not pwned.exists()


def test_target_nested_in_a_list_is_refused_before_it_runs(saved, tmp_path):
    pwned = tmp_path / "pwned"
    path = crafted(saved, tmp_path, lambda config: config["model"].__setitem__(
        "channels", [64, {"_target_": "pathlib.Path.touch", "self": str(pwned)}, 64]))
    with pytest.raises(ValueError, match=r"crafted\.pt: refused _target_ 'pathlib\.Path\.touch'"):
        KeywordSpotter.load(path)
    assert not pwned.exists()


@pytest.mark.parametrize("target", [
    "os.system",
    "asr_cnn.data.voices.engines.command.CommandEngine",  # the project's, but it runs external programs
    "asr_cnn.layers.conv2d.torch.save",  # reached through a model module's imports
    "asr_cnn.models.spotter.instantiate",  # a function, not a module class
    "asr_cnn.layers.no_such_module.Layer",
    "torch.nn.Linear",
])
def test_only_module_classes_of_the_model_packages_are_built(saved, tmp_path, target):
    path = crafted(saved, tmp_path, lambda config: config["model"].__setitem__("_target_", target))
    with pytest.raises(ValueError, match=f"refused _target_ '{target}'"):
        KeywordSpotter.load(path)


@pytest.mark.parametrize(("key", "value"), [
    ("_partial_", True),
    ("_args_", [{"_target_": "asr_cnn.layers.head.WindowHead"}]),
    ("_recursive_", False),
    ("_convert_", "all"),
])
def test_other_instantiate_keys_are_refused(saved, tmp_path, key, value):
    path = crafted(saved, tmp_path, lambda config: config["head"].__setitem__(key, value))
    with pytest.raises(ValueError, match=f"refused config key '{key}'"):
        KeywordSpotter.load(path)


def test_interpolations_are_refused(saved, tmp_path):
    path = crafted(saved, tmp_path, lambda config: config["head"].__setitem__("pool", "${oc.env:HOME}"))
    with pytest.raises(ValueError, match=r"refused interpolation '\$\{oc\.env:HOME\}'"):
        KeywordSpotter.load(path)


def test_allowed_target_with_bad_arguments_is_a_value_error_naming_the_file(saved, tmp_path):
    path = crafted(saved, tmp_path, lambda config: config["model"].__setitem__("no_such_argument", 1))
    with pytest.raises(ValueError, match=r"crafted\.pt: the saved config does not build a spotter"):
        KeywordSpotter.load(path)


def test_code_can_trust_its_own_model_package(tmp_path, monkeypatch):
    path = tmp_path / "tiny.pt"
    tiny_spotter().save(path)  # its body is the tests' own tiny_body.TinyBody
    monkeypatch.setattr(targets, "_trusted", list(targets.MODEL_PACKAGES))  # as before conftest trusted it
    with pytest.raises(ValueError, match=r"tiny\.pt: refused _target_ 'tiny_body\.TinyBody'"):
        KeywordSpotter.load(path)
    targets.add_model_packages("tiny_body")
    assert type(KeywordSpotter.load(path).body).__name__ == "TinyBody"


def test_a_pickled_payload_in_a_model_file_is_refused_and_never_runs(saved, tmp_path):
    marker = tmp_path / "pwned"
    checkpoint = copy.deepcopy(saved[1])
    checkpoint["extra"] = Payload(marker)
    path = tmp_path / "model.pt"
    torch.save(checkpoint, path)
    with pytest.raises(ValueError, match=PAYLOAD_REFUSED.format(r"model\.pt: not a readable checkpoint")):
        KeywordSpotter.load(path)
    assert not marker.exists()
    torch.load(path, weights_only=False)  # the payload is live: a full unpickling runs it
    assert marker.exists()


def resume_parts() -> dict:
    """A fresh model, optimiser, scheduler and (disabled) gradient scaler, as :func:`load_resume` takes them."""
    model = tiny_spotter()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    return {"model": model, "optimizer": optimizer, "scheduler": torch.optim.lr_scheduler.StepLR(optimizer, 2),
            "scaler": torch.amp.GradScaler("cpu", enabled=False)}


@pytest.fixture(scope="module")
def resume_file(tmp_path_factory) -> Path:
    """A legitimate ``last.ckpt`` of the tiny spotter after one epoch of 5 steps."""
    path = tmp_path_factory.mktemp("resume") / RESUME_NAME
    save_resume(path, **resume_parts(), progress={"epoch": 1, "step": 5, "batch_in_epoch": 0},
                history=[{"epoch": 1, "loss": 0.5}])
    return path


def crafted_resume(resume_file: Path, tmp_path: Path, edit) -> Path:
    """A copy of the legitimate resume checkpoint that ``edit`` changed in place."""
    checkpoint = torch.load(resume_file, weights_only=True)
    edit(checkpoint)
    path = tmp_path / RESUME_NAME
    torch.save(checkpoint, path)
    return path


def test_a_legitimate_resume_checkpoint_restores_progress_and_weights(resume_file):
    parts = resume_parts()
    with torch.no_grad():
        parts["model"].head.mlp[-1].weight.zero_()
    progress, history = load_resume(resume_file, **parts)
    assert progress == {"epoch": 1, "step": 5, "batch_in_epoch": 0} and history == [{"epoch": 1, "loss": 0.5}]
    torch.testing.assert_close(parts["model"].state_dict(), tiny_spotter().state_dict(), rtol=0, atol=0)


def test_a_pickled_payload_in_a_resume_file_is_refused_and_never_runs(resume_file, tmp_path):
    marker = tmp_path / "pwned"
    path = crafted_resume(resume_file, tmp_path, lambda checkpoint: checkpoint["history"].append(Payload(marker)))
    with pytest.raises(ValueError, match=PAYLOAD_REFUSED.format(r"last\.ckpt: not a readable resume checkpoint")):
        load_resume(path, **resume_parts())
    assert not marker.exists()
    torch.load(path, weights_only=False)
    assert marker.exists()


def write_junk_zip(path: Path) -> None:
    """A zip archive that ``torch.save`` did not write."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "not a checkpoint")


@pytest.mark.parametrize(("make", "message"), [
    pytest.param(lambda p: p.mkdir(), r"model\.pt: no such checkpoint", id="folder"),
    pytest.param(lambda p: p.write_bytes(b"\x00" * 64), r"model\.pt: not a checkpoint \(torch\.save writes a zip",
                 id="not-zip"),
    pytest.param(write_junk_zip, r"model\.pt: not a readable checkpoint \(", id="other-zip"),
    pytest.param(lambda p: torch.save([1, 2, 3], p), r"model\.pt: not an asr_cnn checkpoint of format 1", id="list"),
    pytest.param(lambda p: torch.save({"format": 2, "config": {}, "state_dict": {}}, p),
                 r"model\.pt: not an asr_cnn checkpoint of format 1", id="format-2"),
])
def test_a_file_that_is_no_model_checkpoint_is_refused_with_its_reason(tmp_path, make, message):
    path = tmp_path / "model.pt"
    make(path)
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        KeywordSpotter.load(path)


def test_a_truncated_model_checkpoint_is_refused(saved, tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(saved[0].read_bytes()[:-200])  # cut inside the zip's central directory
    with pytest.raises(ValueError, match=r"model\.pt: not (a readable checkpoint|a checkpoint)"):
        KeywordSpotter.load(path)


@pytest.mark.parametrize("missing", ["config", "state_dict"])
def test_a_model_checkpoint_without_config_or_weights_is_refused(saved, tmp_path, missing):
    checkpoint = copy.deepcopy(saved[1])
    del checkpoint[missing]
    path = tmp_path / "model.pt"
    torch.save(checkpoint, path)
    with pytest.raises(ValueError, match=r"model\.pt: an asr_cnn checkpoint needs a config and a state_dict"):
        KeywordSpotter.load(path)


def weights_edits() -> dict:
    """Ways the saved weights can fail to fit the saved config: each must be refused (strict loading)."""
    def drop(state: dict) -> None:
        del state[next(iter(state))]

    def add(state: dict) -> None:
        state["head.extra.weight"] = torch.zeros(1)

    def reshape(state: dict) -> None:
        key = next(key for key, value in state.items() if value.dim() > 1)
        state[key] = torch.zeros(state[key].shape[0] + 1, *state[key].shape[1:])

    return {"missing": drop, "unexpected": add, "shape": reshape}


@pytest.mark.parametrize("edit", ["missing", "unexpected", "shape"])
def test_model_weights_that_do_not_match_the_config_are_refused(saved, tmp_path, edit):
    checkpoint = copy.deepcopy(saved[1])
    weights_edits()[edit](checkpoint["state_dict"])
    path = tmp_path / "model.pt"
    torch.save(checkpoint, path)
    with pytest.raises(ValueError, match=r"model\.pt: weights do not match the saved config"):
        KeywordSpotter.load(path)


@pytest.mark.parametrize(("make", "message"), [
    pytest.param(lambda p: p.write_bytes(b"\x00" * 64), r"last\.ckpt: not a readable resume checkpoint \(",
                 id="not-zip"),
    pytest.param(write_junk_zip, r"last\.ckpt: not a readable resume checkpoint \(", id="other-zip"),
    pytest.param(lambda p: torch.save([1, 2, 3], p), r"last\.ckpt: not an asr_cnn resume checkpoint of format 1",
                 id="list"),
    pytest.param(lambda p: torch.save({"format": 2}, p), r"last\.ckpt: not an asr_cnn resume checkpoint of format 1",
                 id="format-2"),
])
def test_a_file_that_is_no_resume_checkpoint_is_refused_with_its_reason(tmp_path, make, message):
    path = tmp_path / RESUME_NAME
    make(path)
    with pytest.raises(ValueError, match=message):
        load_resume(path, **resume_parts())


@pytest.mark.parametrize("missing", ["model", "optimizer", "scheduler", "scaler", "progress", "history", "rng"])
def test_a_resume_checkpoint_missing_an_entry_is_refused(resume_file, tmp_path, missing):
    path = crafted_resume(resume_file, tmp_path, lambda checkpoint: checkpoint.pop(missing))
    with pytest.raises(ValueError, match=f"last\\.ckpt: the resume checkpoint lacks '{missing}'"):
        load_resume(path, **resume_parts())


@pytest.mark.parametrize("edit", ["missing", "unexpected", "shape"])
def test_resume_weights_that_do_not_match_the_model_are_refused(resume_file, tmp_path, edit):
    path = crafted_resume(resume_file, tmp_path, lambda checkpoint: weights_edits()[edit](checkpoint["model"]))
    with pytest.raises(ValueError, match=r"last\.ckpt: weights do not match this run's model"):
        load_resume(path, **resume_parts())
