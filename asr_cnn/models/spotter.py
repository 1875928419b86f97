"""KeywordSpotter: front end, body and window head as one streamable module, plus its checkpoint."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from asr_cnn.files import atomic_write
from asr_cnn.frontend.functional import num_frames
from asr_cnn.layers.head import WindowHead
from asr_cnn.layers.sequential import StreamingSequential
from asr_cnn.layers.streaming import StreamingLayer, available_outputs
from asr_cnn.targets import check_file_config

CHECKPOINT_FORMAT = 1
SPOTTER_CONFIG_KEYS = ("frontend", "model", "head", "spotter")


class KeywordSpotter(StreamingSequential):
    """Waveform in, class scores for every window out; streams like any layer.

    The children are ``frontend`` (samples -> features), ``body`` (features -> maps) and ``head``
    (pool one window of maps -> logits). As a streaming layer over samples, its ``context + 1`` is the
    window and its ``stride`` the scan hop, both in samples.

    Args:
        frontend: :class:`~asr_cnn.frontend.LogMel` or :class:`~asr_cnn.frontend.MFCC`.
        body: A streaming layer mapping (B, F, T) to (B, C, T').
        head: A :class:`WindowHead` whose ``n_classes`` matches ``labels``.
        labels: Class names, K of them.
        config: The plain-dict config that rebuilds this spotter (set by :meth:`from_config`).
        extra: Plain data carried in the checkpoint (e.g. detection thresholds).
    """

    def __init__(self, frontend: StreamingLayer, body: StreamingLayer, head: WindowHead, labels: list[str],
                 config: dict[str, Any] | None = None, extra: dict[str, Any] | None = None) -> None:
        if head.n_classes != len(labels):
            raise ValueError(f"head has {head.n_classes} classes but {len(labels)} labels were given: {labels}")
        if len(set(labels)) != len(labels):
            raise ValueError(f"labels must be unique, got {labels}")
        super().__init__(named={"frontend": frontend, "body": body, "head": head})
        self.labels = list(labels)
        self.config = config or {}
        self.extra = extra or {}

    @property
    def window_samples(self) -> int:
        """Samples of audio that one score sees."""
        return self.context + 1

    @property
    def hop_samples(self) -> int:
        """Samples between consecutive scores: front-end hop x total time stride of the body."""
        return self.stride

    @property
    def sample_rate(self) -> int:
        return self.frontend.sample_rate

    def features(self, wave: torch.Tensor) -> torch.Tensor:
        """Front-end features.

        Shape:
            wave: (B, S). Output: (B, F, T).
        """
        return self.frontend(wave)

    def classify_features(self, features: torch.Tensor) -> torch.Tensor:
        """Logits for every complete window of features.

        Shape:
            features: (B, F, T). Output: (B, K, N).
        """
        return self.head(self.body(features))

    @classmethod
    def from_config(cls, cfg: DictConfig | dict) -> "KeywordSpotter":
        """Build an untrained spotter from a composed ``conf/train.yaml`` (or a saved spotter config).

        Reads ``cfg.frontend``, ``cfg.model`` (the body), ``cfg.head`` and ``cfg.spotter.window_seconds``;
        labels come from ``cfg.labels`` if present, else from ``cfg.data.keywords``.

        Raises:
            ValueError: The body's receptive field does not fit in the window.
        """
        cfg = cfg if isinstance(cfg, DictConfig) else OmegaConf.create(cfg)
        if "labels" in cfg:
            labels = list(cfg.labels)
        else:
            from asr_cnn.data.corpus.labels import make_labels  # the corpus owns the label convention
            labels = make_labels(list(cfg.data.keywords))
        frontend = instantiate(cfg.frontend)
        body = instantiate(cfg.model, in_features=frontend.n_features)
        max_frames = num_frames(round(cfg.spotter.window_seconds * frontend.sample_rate), frontend.win_length,
                                frontend.hop_length)
        head_frames = available_outputs(max_frames, body.context, body.stride)
        if head_frames < 1:
            raise ValueError(f"model {cfg.model._target_} needs {body.context + 1} frames but a "
                             f"{cfg.spotter.window_seconds} s window has only {max_frames}")
        head = instantiate(cfg.head, in_channels=body.out_channels, n_classes=len(labels), frames=head_frames)
        config = {key: OmegaConf.to_container(cfg[key], resolve=True) for key in SPOTTER_CONFIG_KEYS}
        config["labels"] = labels
        return cls(frontend, body, head, labels, config=config)

    def save(self, path: str | os.PathLike) -> None:
        """Write config, labels, weights and ``extra`` atomically (temporary file, then rename)."""
        checkpoint = {"format": CHECKPOINT_FORMAT, "config": self.config, "labels": self.labels,
                      "state_dict": self.state_dict(), "extra": self.extra}
        with atomic_write(path) as tmp:
            torch.save(checkpoint, tmp)

    @classmethod
    def load(cls, path: str | os.PathLike, map_location: str | torch.device = "cpu") -> "KeywordSpotter":
        """Rebuild a saved spotter, in eval mode; the file is read with ``weights_only=True``.

        The saved config may only build the project's own modules (:func:`asr_cnn.targets.check_file_config`):
        a checkpoint is a file someone else may have written, and ``instantiate`` calls what it names.

        Raises:
            FileNotFoundError: No file at ``path``.
            ValueError: The file is not an asr_cnn checkpoint, its config names anything but the project's
                modules, or its weights do not match its config.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such checkpoint")
        if not zipfile.is_zipfile(path):
            raise ValueError(f"{path}: not a checkpoint (torch.save writes a zip archive; this file is not one)")
        try:
            checkpoint = torch.load(path, map_location=map_location, weights_only=True)
        except Exception as err:  # torch raises many types for bad bytes; all mean "not a checkpoint"
            raise ValueError(f"{path}: not a readable checkpoint ({err})") from err
        if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"{path}: not an asr_cnn checkpoint of format {CHECKPOINT_FORMAT}")
        config, state_dict = checkpoint.get("config"), checkpoint.get("state_dict")
        if not isinstance(config, dict) or not isinstance(state_dict, dict):
            raise ValueError(f"{path}: an asr_cnn checkpoint needs a config and a state_dict")
        check_file_config(config, path)  # before instantiate imports or calls anything it names
        try:
            spotter = cls.from_config(config)
        except (InstantiationException, OmegaConfBaseException, KeyError, TypeError, ValueError) as err:
            raise ValueError(f"{path}: the saved config does not build a spotter ({err})") from err
        try:
            spotter.load_state_dict(state_dict)
        except RuntimeError as err:
            raise ValueError(f"{path}: weights do not match the saved config ({err})") from err
        spotter.extra = checkpoint.get("extra", {})
        return spotter.to(map_location).eval()

    def extra_repr(self) -> str:
        return f"labels={self.labels}, window_samples={self.window_samples}, hop_samples={self.hop_samples}"

