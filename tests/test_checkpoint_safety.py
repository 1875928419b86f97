"""A checkpoint is a file someone else may have written: loading it builds the project's modules and nothing else."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from detect_support import tiny_spotter

from asr_cnn import targets
from asr_cnn.config import compose_config
from asr_cnn.models.spotter import KeywordSpotter


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
    "asr_cnn.data.engines.command.CommandEngine",  # the project's, but it runs external programs
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
