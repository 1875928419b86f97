"""The config groups' schemas: every shipped config composes against them, a bad value fails while composing in
one line naming the key, and the overrides the README documents keep working."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from hydra.utils import instantiate

from asr_cnn.config import CONF_DIR, OPTION_SCHEMAS, compose_config
from asr_cnn.data.corpus.config import corpus_config
from asr_cnn.detect.config import Runtime
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.streaming.engines import RUNTIMES
from asr_cnn.training.config import trainer_config

EXPERIMENTS = sorted(path.stem for path in (CONF_DIR / "experiment").glob("*.yaml"))
OPTIMIZERS = sorted(path.stem for path in (CONF_DIR / "optimizer").glob("*.yaml"))
SCHEDULERS = sorted(path.stem for path in (CONF_DIR / "scheduler").glob("*.yaml"))
FRONTENDS = sorted(path.stem for path in (CONF_DIR / "frontend").glob("*.yaml"))
HEADS = sorted(path.stem for path in (CONF_DIR / "head").glob("*.yaml"))
DETECT = ["checkpoint=model.pt", "input=speech.wav"]


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_composes_against_the_schemas(experiment):
    cfg = compose_config("train", [f"experiment={experiment}", "run_dir=run"])
    trainer_config(cfg.trainer)
    corpus_config(cfg.data)
    assert cfg.spotter.window_seconds > 0


@pytest.mark.parametrize("name, overrides, message", [
    ("detect", [*DETECT, "detector.fa_per_hour=abc"],
     "detector.fa_per_hour must be a number >= 0 (or null), got 'abc'"),
    ("detect", [*DETECT, "detector.runtime=bogus"], "detector.runtime must be auto, fast or eager, got 'bogus'"),
    ("listen", ["checkpoint=model.pt", "detector.threshold=[1]"],
     "detector.threshold must be a number in [0, 1], got [1]"),
    ("evaluate_stream", ["checkpoint=model.pt", "streams=s", "output_dir=o", "detector.smoothing_s=long"],
     "detector.smoothing_s must be a number >= 0 (or null), got 'long'"),
    ("train", ["spotter.window_seconds=abc"], "spotter.window_seconds must be a number > 0, got 'abc'"),
    ("train", ["optimizer.lr=abc"], "optimizer.lr must be a number > 0, got 'abc'"),
    ("train", ["optimizer=sgd", "optimizer.nesterov=maybe"], "optimizer.nesterov must be true or false, got 'maybe'"),
    ("train", ["optimizer=rmsprop", "optimizer.momentum=[]"], "optimizer.momentum must be a number >= 0, got []"),
    ("calibrate", ["checkpoint=model.pt", "scheduler.T_max=1.5"], "scheduler.T_max must be an integer >= 1, got 1.5"),
    ("train", ["scheduler=step", "scheduler.gamma=abc"], "scheduler.gamma must be a number > 0, got 'abc'"),
    ("train", ["model.channels=abc"], "model.channels must be a list of channel counts, one per layer, got 'abc'"),
    ("train", ["~experiment", "model=res8", "model.blocks=x"], "model.blocks must be an integer >= 1, got 'x'"),
    ("train", ["model.trainable_blocks=two"], "model.trainable_blocks must be an integer >= 0, got 'two'"),
    ("train", ["head.dropout=abc"], "head.dropout must be a number in [0, 1], got 'abc'"),
    ("train", ["head=tdnn_heads", "head.members=[]"], "head.members must be an integer >= 1, got []"),
    ("train", ["~experiment", "frontend=mfcc", "frontend.n_mfcc=1.5"],
     "frontend.n_mfcc must be an integer >= 1, got 1.5"),
    ("train", ["frontend.top_db=abc"], "frontend.top_db must be a number of dB > 0 (or null), got 'abc'"),
    ("detect", [*DETECT, "block_seconds=abc"], "block_seconds must be a number > 0, got 'abc'"),
    ("listen", ["checkpoint=model.pt", "seconds=forever"], "seconds must be a number >= 0 (or null), got 'forever'"),
    ("evaluate", ["checkpoint=model.pt", "run_dir=run", "batch_size=x"], "batch_size must be an integer >= 1, got 'x'"),
    ("evaluate_real", ["checkpoint=model.pt", "output_dir=o", "other_words=maybe"],
     "other_words must be true or false, got 'maybe'"),
    ("evaluate_stream", ["checkpoint=model.pt", "streams=s", "output_dir=o", "target_fa_per_hour=low"],
     "target_fa_per_hour must be a number >= 0, got 'low'"),
    ("export", ["checkpoint=model.pt", "output=kws.onnx", "opset=x"], "opset must be an integer >= 1, got 'x'"),
    ("receptive_field", ["checkpoint=model.pt", "channel=abc"], "channel must be an integer >= 0 (or null), got 'abc'"),
])
def test_a_bad_override_fails_while_composing_in_one_line_naming_the_key(name, overrides, message):
    with pytest.raises(ValueError) as raised:
        compose_config(name, overrides)
    assert str(raised.value) == message


@pytest.mark.parametrize("group, option", [(group, option) for group, options in OPTION_SCHEMAS.items()
                                           for option in options])
def test_an_option_with_a_schema_composes_as_it_with_its_files_keys_in_order(group, option):
    schema = OPTION_SCHEMAS[group][option]
    node = compose_config("train", ["~experiment", f"{group}={option}", "run_dir=run"])[group]
    assert node._metadata.object_type is schema
    assert list(node) == [field.name for field in dataclasses.fields(schema)]


@pytest.mark.parametrize("frontend", FRONTENDS)
@pytest.mark.parametrize("head", HEADS)
def test_every_frontend_and_head_builds_from_its_typed_config(frontend, head):
    model = "speech_embedding" if frontend == "speech_embedding_mel" else "tdnn"  # the backbone reads its own bands
    cfg = compose_config("train", ["~experiment", f"frontend={frontend}", f"model={model}", f"head={head}",
                                   "run_dir=run"])
    spotter = KeywordSpotter.from_config(cfg)
    assert spotter.config["frontend"]["_target_"] == cfg.frontend._target_


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_every_optimizer_and_scheduler_builds_from_its_typed_config(optimizer, scheduler):
    cfg = compose_config("train", [f"optimizer={optimizer}", f"scheduler={scheduler}", "run_dir=run"])
    built = instantiate(cfg.optimizer)(params=[torch.zeros(1, requires_grad=True)])
    instantiate(cfg.scheduler)(optimizer=built)
    assert built.param_groups[0]["initial_lr"] == cfg.optimizer.lr


@pytest.mark.parametrize("name, overrides", [
    ("detect", ["checkpoint=[wake.pt,commands.pt]", "input=speech.wav"]),
    ("listen", ["checkpoint=model.pt", "input_device=3"]),
    ("listen", ["checkpoint=model.pt", "input_device=pulse", "seconds=2.5"]),
    ("evaluate", ["checkpoint=model.pt", "run_dir=run", "split=[test,test_engine]", "audio_dir=clips"]),
    ("evaluate_real", ["checkpoint=model.pt", "output_dir=o", "positives=clips", "keyword=maybe"]),
])
def test_the_recipes_take_what_their_files_document(name, overrides):
    cfg = compose_config(name, overrides)
    for override in overrides:
        key, value = override.split("=")
        assert str(cfg[key]).replace("'", "").replace(" ", "") == value


@pytest.mark.parametrize("override, thresholds", [
    ("detector.thresholds={alexa: 0.2}", {"alexa": 0.2}),
    ("+detector.thresholds.yes=0.5", {"yes": 0.5}),
    ("detector.thresholds={}", {}),
])
def test_thresholds_are_a_mapping_over_a_null_default(override, thresholds):
    assert compose_config("detect", DETECT).detector.thresholds is None
    assert compose_config("detect", [*DETECT, override]).detector.thresholds == thresholds


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_detector_receives_the_runtime_as_its_string(runtime):
    detector = instantiate(compose_config("detect", [*DETECT, f"detector.runtime={runtime}"]).detector)
    given = detector.keywords["runtime"]
    assert given == runtime and str(given) == runtime and f"{given}" == runtime and isinstance(given, str)


def test_the_schema_offers_the_scanners_runtimes():
    assert [member.value for member in Runtime] == list(RUNTIMES)
