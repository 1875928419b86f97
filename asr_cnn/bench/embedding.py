"""``python -m asr_cnn.bench embedding``: CPU per 80 ms of audio of the speech_embedding backbone, six ways.

One stream on one thread, one 96-d embedding per 80 ms hop:

* **ours, streaming**: the rebuilt front end and network (``SpeechEmbeddingMel`` + ``SpeechEmbedding``)
  fed 80 ms chunks; every mel frame and every layer's frame is computed once;
* **ours, streaming 1 s chunks**: the same with 12.5 hops per call (more latency, fewer small calls);
* **ours, streaming, exported**: a spotter of ``model=speech_embedding`` (the backbone and a window
  head, whose cost is negligible) exported by ``asr_cnn.detect.export`` and stepped by onnxruntime;
* **ours, whole window**: the same torch modules recomputing the 76-frame window (12,512 samples) each hop;
* **peers, whole window**: onnxruntime on ``melspectrogram.onnx`` and ``embedding_model.onnx`` recomputing
  the whole window, mel included, every hop;
* **peers, openWakeWord**: onnxruntime as openWakeWord streams: mel of the new 80 ms (+ 480 samples of
  overlap) appended to a frame buffer, the network recomputed on the last 76 frames.

Times are CPU time of this process. Also checks that the streamed embeddings equal the whole-window
ones, so the figures compare like for like.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import onnxruntime as ort
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from asr_cnn import KeywordSpotter
from asr_cnn.bench.scan import best_of
from asr_cnn.config import CONF_DIR, compose_config
from asr_cnn.detect.export import CHUNK, STATE_IN, export_onnx
from asr_cnn.frontend import SpeechEmbeddingMel
from asr_cnn.models import SpeechEmbedding
from asr_cnn.models.speech_embedding_weights import EMBEDDING_FILE, MEL_FILE, resource_path

HOP = 1280  # samples per embedding: 8 frames of 160
WINDOW = 512 + 75 * 160  # samples one embedding sees: 76 frames
FRAMES = 76
OWW_OVERLAP = 480  # openWakeWord computes the mel of each new chunk with 3 frames' worth of older samples


def session(path: Path) -> ort.InferenceSession:
    """One-thread CPU session of an ONNX file."""
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def exported_step(folder: Path) -> ort.InferenceSession:
    """The streaming step of an untrained ``model=speech_embedding`` spotter, exported to ``folder``."""
    cfg = compose_config("train", ["~experiment", "model=speech_embedding", "+labels=[a,b]"])
    return session(export_onnx(KeywordSpotter.from_config(cfg).eval(), folder / "step.onnx"))


def ours_exported(step: ort.InferenceSession, audio: np.ndarray) -> None:
    """Step the exported spotter over ``audio`` (1, S), one 80 ms hop per call, from the zero state."""
    shapes = json.loads(step.get_modelmeta().custom_metadata_map["state"])
    state = [np.zeros([1, *shape[1:]], dtype=np.float32) for shape in shapes.values()]
    names = [STATE_IN + name for name in shapes]
    for end in range(HOP, audio.shape[-1] + 1, HOP):
        _, *state = step.run(None, {CHUNK: audio[:, end - HOP:end], **dict(zip(names, state))})


def ours_streaming(frontend: SpeechEmbeddingMel, backbone: SpeechEmbedding, audio: torch.Tensor,
                   chunk_samples: int = HOP) -> torch.Tensor:
    """Embeddings of ``audio`` (B, S) pushed ``chunk_samples`` at a time; (B, 96, N)."""
    front_state = frontend.init_state(audio.shape[0])
    body_state = backbone.init_state(audio.shape[0])
    outputs = []
    for chunk in audio.split(chunk_samples, dim=-1):
        features, front_state = frontend.streaming_forward(chunk, front_state)
        embedding, body_state = backbone.streaming_forward(features, body_state)
        outputs.append(embedding)
    return torch.cat(outputs, dim=-1)


def ours_windows(frontend: SpeechEmbeddingMel, backbone: SpeechEmbedding, audio: torch.Tensor) -> torch.Tensor:
    """Embeddings recomputed from each whole window; (1, 96, N)."""
    starts = range(0, audio.shape[-1] - WINDOW + 1, HOP)
    return torch.cat([backbone(frontend(audio[:, s:s + WINDOW])) for s in starts], dim=-1)


def peers_windows(mel: ort.InferenceSession, embed: ort.InferenceSession, audio: np.ndarray) -> np.ndarray:
    """onnxruntime on each whole window, mel included; (N, 96)."""
    rows = []
    for start in range(0, audio.shape[-1] - WINDOW + 1, HOP):
        features = mel.run(None, {"input": audio[:, start:start + WINDOW]})[0] / 10 + 2  # (1, 1, 76, 32)
        rows.append(embed.run(None, {"input_1": features.reshape(1, FRAMES, 32, 1)})[0].reshape(-1))
    return np.stack(rows)


def peers_openwakeword(mel: ort.InferenceSession, embed: ort.InferenceSession, audio: np.ndarray) -> np.ndarray:
    """onnxruntime as openWakeWord streams: incremental mel frames, the network on the last 76; (N, 96)."""
    frames, rows = np.zeros((0, 32), dtype=np.float32), []
    for end in range(HOP, audio.shape[-1] + 1, HOP):
        recent = audio[:, max(0, end - HOP - OWW_OVERLAP):end]
        new = mel.run(None, {"input": recent})[0][0, 0] / 10 + 2  # (8 or fewer, 32)
        frames = np.concatenate([frames, new])[-FRAMES:]
        if frames.shape[0] == FRAMES:
            rows.append(embed.run(None, {"input_1": frames.reshape(1, FRAMES, 32, 1)})[0].reshape(-1))
    return np.stack(rows)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m asr_cnn.bench embedding", description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0, help="audio length")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    torch.set_num_threads(1)
    frontend = instantiate(OmegaConf.load(CONF_DIR / "frontend" / "speech_embedding_mel.yaml"))  # fixed floor
    backbone = SpeechEmbedding(frontend.n_features, trainable_blocks=0).eval()
    mel, embed = session(resource_path(MEL_FILE)), session(resource_path(EMBEDDING_FILE))
    with tempfile.TemporaryDirectory() as folder:
        step = exported_step(Path(folder))  # the session holds the model; the file may go
    audio = 0.1 * torch.randn(1, int(args.seconds * 16_000), generator=torch.Generator().manual_seed(0))
    samples = audio.numpy() * 32768  # openWakeWord's int16 scale
    n_hops = (audio.shape[-1] - WINDOW) // HOP + 1
    print(f"speech_embedding, {args.seconds:.0f} s of noise, {n_hops} embeddings (one per 80 ms), 1 thread, "
          f"best of {args.repeats}")

    with torch.inference_mode():
        streamed, windowed = ours_streaming(frontend, backbone, audio), ours_windows(frontend, backbone, audio)
        print(f"streamed == whole windows: max |difference| {float((streamed - windowed).abs().max()):.2e} "
              f"(embeddings up to {float(windowed.abs().max()):.0f})")
        ways: dict[str, Callable[[], object]] = {
            "ours, streaming": lambda: ours_streaming(frontend, backbone, audio),
            "ours, streaming 1 s chunks": lambda: ours_streaming(frontend, backbone, audio, 1 * 16_000),
            "ours, streaming, exported (onnxruntime)": lambda: ours_exported(step, audio.numpy()),
            "ours, whole window": lambda: ours_windows(frontend, backbone, audio),
            "peers, whole window (onnxruntime)": lambda: peers_windows(mel, embed, samples),
            "peers, openWakeWord (onnxruntime)": lambda: peers_openwakeword(mel, embed, samples),
        }
        print(f"{'':40s} CPU ms per 80 ms")
        for name, run in ways.items():
            print(f"{name:40s} {best_of(args.repeats, run, time.process_time) * 1e3 / n_hops:8.3f}")
    return 0
