"""The training loop: ``recipes/train.py``'s library function.

One function, :func:`train`, runs on one CPU, one GPU, or under ``torchrun`` on many (DDP; rank 0
writes every file). It resumes from ``<run_dir>/last.ckpt`` when that exists, and a resumed run on CPU
ends with exactly the weights of an uninterrupted one: the batch order and crops are functions of
(seed, epoch, step) and every random state is checkpointed. (Under DDP rank 0's random state is
saved, so a resumed multi-process run continues from the same step but is not bit-identical.)
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from asr_cnn.data.corpus.config import AugmentSpec, CorpusConfig, DataConfig, corpus_config, data_config
from asr_cnn.data.datasets.negatives import Window
from asr_cnn.data.datasets.training_set import LiveData, build_live_data
from asr_cnn.data.datasets.windows import random_crop
from asr_cnn.detect.detector import NON_KEYWORDS
from asr_cnn.evaluation.calibration import Calibration, write_calibration
from asr_cnn.evaluation.clips import evaluate_dataset
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.summary import format_summary, summarize
from asr_cnn.threads import torch_threads
from asr_cnn.training import distributed
from asr_cnn.training.batching import EpochBatchSampler, EpochItems, derive_seed
from asr_cnn.training.cached_validation import CachedValidation, build_cached_validation
from asr_cnn.training.checkpointing import RESUME_NAME, atomic_save, load_resume, save_resume
from asr_cnn.training.feature_cache import CachedForward, FeatureCache, build_feature_cache
from asr_cnn.training.forward import TrainingForward, combined
from asr_cnn.training.config import TrainerConfig, trainer_config
from asr_cnn.training.live import (better, mining_epochs, real_heldout_check, shipped_calibration,
                                   validation_calibration, validation_folder)
from asr_cnn.training.mining import mine_round
from asr_cnn.training.outputs import METRICS_NAME, MODEL_NAME, SUMMARY_NAME, write_run_outputs
from asr_cnn.training.parameters import parameter_groups

log = logging.getLogger(__name__)

TENSORBOARD_DIR = "tensorboard"
BEST_NAME = "best.pt"
"""Weights of the best epoch on the validation streams so far (``trainer.live.select_every``)."""
MIXED_PRECISION = "16-mixed"


def configure_cpu(threads: int | None, workers: int, ctx: distributed.DistContext) -> None:
    """Torch threads for this process: as given, or this node's cores shared among its training
    processes, less one per DataLoader worker (decoding and augmenting clips keeps a worker busy;
    more threads than free cores make every thread wait).

    Also flushes denormal floats to zero: late in a run, with a small learning rate, optimiser
    moments shrink into the denormal range, where x86 arithmetic is many times slower.
    """
    if threads is None:
        threads = max(1, cores(ctx) - workers)
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)


def cores(ctx: distributed.DistContext) -> int:
    """This process's share of the node's cores."""
    return max(1, (os.cpu_count() or 1) // ctx.local_world_size)


def class_weights(weights: dict[str, float] | None, labels: list[str]) -> torch.Tensor:
    """Loss weight per class: 1 unless ``weights`` names the label.

    Raises:
        ValueError: ``weights`` names a label the spotter does not have.
    """
    weights = dict(weights or {})
    unknown = sorted(set(weights) - set(labels))
    if unknown:
        raise ValueError(f"trainer.class_weights names {unknown}, which are not labels of this model: {labels}")
    return torch.tensor([float(weights.get(label, 1.0)) for label in labels])


def spec_augment(augment: AugmentSpec | None) -> nn.Module | None:
    """SpecAugment from ``data.augment.spec``, or ``None`` when the config has none."""
    from asr_cnn.data import SpecAugment

    spec = augment.spec if augment is not None else None
    return SpecAugment(**asdict(spec)) if spec is not None else None


def build_datasets(data: DataConfig, corpus: CorpusConfig, trainer: TrainerConfig, labels: list[str], window: int,
                   ctx: distributed.DistContext) -> tuple[LiveData, Dataset]:
    """Build the corpus (rank 0; a no-op when already built) and open its train and validation splits.

    Training clips and windows are augmented by ``data.augment`` (noise from the train region of the
    corpus's noise files), seeded per (seed, epoch, item); ``trainer.live`` adds negative windows,
    keywords in context and, as training goes on, mined hard negatives (:mod:`asr_cnn.data.datasets.training_set`).
    """
    from asr_cnn.data import SpeechCommands, build_corpus

    if ctx.is_main:
        build_corpus(data)
    distributed.barrier(ctx)
    return (build_live_data(corpus, data.augment, trainer.live, trainer.seed, labels, window),
            SpeechCommands(corpus.root, "validation", labels))


def train(cfg: DictConfig) -> dict:
    """Train the spotter that ``cfg`` describes and write the run directory ``cfg.run_dir``.

    Args:
        cfg: A composed ``conf/train.yaml``.

    With ``trainer.ensemble`` > 1, it trains that many models and ships their ensemble
    (:func:`~asr_cnn.training.ensemble.train_ensemble`).

    Returns:
        ``{"run_dir", "model", "metrics"}`` on rank 0 (paths and the ``metrics.json`` content); on the
        other ranks ``{"run_dir"}``.

    Raises:
        ValueError: A ``trainer`` setting has the wrong type or range (before any work is done).
    """
    trainer = trainer_config(cfg.trainer)
    if trainer.ensemble > 1:
        from asr_cnn.training.ensemble import train_ensemble  # it trains each member with this function

        return train_ensemble(cfg)
    ctx = distributed.setup(trainer.device)
    try:
        return _train(cfg, trainer, ctx)
    finally:
        distributed.cleanup(ctx)


@dataclass
class Run:
    """Everything one training process works with (the loop's arguments, gathered)."""

    trainer: TrainerConfig
    corpus: CorpusConfig
    ctx: distributed.DistContext
    spotter: KeywordSpotter
    forward: nn.Module
    loader: DataLoader
    optimizer: torch.optim.Optimizer
    scheduler: Any
    scaler: torch.amp.GradScaler
    loss_fn: nn.Module
    run_dir: Path
    val_set: Dataset
    live: LiveData
    cache: FeatureCache | None = None  # frozen-prefix features: training reads them instead of audio
    validation: CachedValidation | None = None  # the same for the validation clips and streams (rank 0)
    writer: SummaryWriter | None = None
    history: list[dict] = field(default_factory=list)
    best: dict | None = None  # epoch, recall and false alarms per hour of the best checkpoint on validation streams
    best_calibration: Calibration | None = None  # of best.pt, when chosen in this process

    def save_resume(self, progress: dict) -> None:
        mined = [[w.source, w.start] for w in self.live.mined]  # mining is part of where training stands
        save_resume(self.run_dir / RESUME_NAME, model=self.spotter, optimizer=self.optimizer,
                    scheduler=self.scheduler, scaler=self.scaler, progress=progress | {"mined": mined, "best": self.best},
                    history=self.history)

    def new_loader(self) -> None:
        """A loader over the current training set (mining makes it grow)."""
        trainer, ctx = self.trainer, self.ctx
        train_set = self.cache.dataset(self.live.mined) if self.cache is not None else self.live.dataset()
        sampler = EpochBatchSampler(len(train_set), trainer.batch_size, trainer.seed, ctx.rank, ctx.world_size)
        self.loader = DataLoader(EpochItems(train_set), batch_sampler=sampler, num_workers=trainer.num_workers,
                                 persistent_workers=trainer.num_workers > 0, pin_memory=ctx.device.type == "cuda",
                                 generator=torch.Generator().manual_seed(derive_seed(trainer.seed, ctx.rank)))


def build_run(cfg: DictConfig, ctx: distributed.DistContext) -> Run:
    """Spotter, data, optimiser, scheduler, gradient scaler and loss of one training process, on ``ctx.device``.

    ``cfg.trainer`` and ``cfg.data`` are read as typed objects, checked once here; the spotter, optimiser and
    scheduler are built from their ``_target_`` configs.

    Raises:
        CorpusError: A bad ``data`` setting (:func:`~asr_cnn.data.corpus.config.corpus_config`).
    """
    trainer, data = trainer_config(cfg.trainer), data_config(cfg.data)
    corpus = corpus_config(data)
    torch.manual_seed(trainer.seed)  # the same initial weights on every rank
    spotter = KeywordSpotter.from_config(cfg).to(ctx.device)
    live, val_set = build_datasets(data, corpus, trainer, spotter.labels, spotter.window_samples, ctx)
    prefix_threads = trainer.threads or cores(ctx)  # large batches through the frozen prefix: every core helps
    with torch_threads(prefix_threads):
        cache = build_feature_cache(trainer, spotter, live, ctx.device)
    forward: nn.Module = (CachedForward(cache.split.rest) if cache is not None
                          else TrainingForward(spotter, spec_augment(data.augment))).to(ctx.device)
    if ctx.distributed:
        forward = DistributedDataParallel(forward, device_ids=[ctx.device] if ctx.device.type == "cuda" else None)
    groups = parameter_groups(spotter, cfg.optimizer.lr, trainer.pretrained_lr_scale)
    optimizer = instantiate(cfg.optimizer)(params=groups)
    run = Run(trainer, corpus, ctx, spotter, forward, loader=None,
               optimizer=optimizer, scheduler=instantiate(cfg.scheduler)(optimizer=optimizer),
               scaler=torch.amp.GradScaler(ctx.device.type,
                                           enabled=trainer.precision == MIXED_PRECISION and ctx.device.type == "cuda"),
               loss_fn=nn.CrossEntropyLoss(weight=class_weights(trainer.class_weights, spotter.labels).to(ctx.device),
                                           label_smoothing=trainer.label_smoothing),
               run_dir=Path(cfg.run_dir), val_set=val_set, live=live, cache=cache)
    if cache is not None and ctx.is_main:
        started = time.perf_counter()
        with torch_threads(prefix_threads):
            run.validation = build_cached_validation(
                cache.split, spotter.window_samples, spotter.sample_rate, val_set, validation_folder(corpus.root),
                [label for label in spotter.labels if label not in NON_KEYWORDS], trainer.eval_batch_size, ctx.device)
        log.info("validation features: %d clips and %.1f h of streams in %.0f s", len(run.validation.targets),
                 sum(run.validation.seconds) / 3600, time.perf_counter() - started)
    run.new_loader()
    return run


def _train(cfg: DictConfig, trainer: TrainerConfig, ctx: distributed.DistContext) -> dict:
    configure_cpu(trainer.threads, trainer.num_workers, ctx)
    run = build_run(cfg, ctx)
    spotter = run.spotter
    progress = new_epoch(0, 0)
    resume_path = run.run_dir / RESUME_NAME
    if trainer.resume and resume_path.is_file():
        progress, run.history = load_resume(resume_path, model=spotter, optimizer=run.optimizer,
                                            scheduler=run.scheduler, scaler=run.scaler)
        run.live.mined = [Window(source, start) for source, start in progress.pop("mined", [])]
        run.best = progress.pop("best", None)
        run.new_loader()
        log.info("resumed from %s at epoch %d, step %d", resume_path, progress["epoch"], progress["step"])
    else:
        torch.manual_seed(derive_seed(trainer.seed, ctx.rank))  # dropout and masks differ between ranks
    if ctx.is_main:
        run.run_dir.mkdir(parents=True, exist_ok=True)
        summary = format_summary(summarize(spotter))
        (run.run_dir / SUMMARY_NAME).write_text(summary + "\n")
        log.info("model summary:\n%s", summary)
        run.writer = SummaryWriter(str(run.run_dir / TENSORBOARD_DIR))

    mining = mining_epochs(trainer.max_epochs, trainer.live.mining_rounds)
    for epoch in range(progress["epoch"], trainer.max_epochs):
        run.loader.batch_sampler.set_epoch(epoch, progress["batch_in_epoch"])
        progress = train_epoch(run, progress, epoch)
        row = {"epoch": epoch + 1, "lr": run.optimizer.param_groups[0]["lr"], **epoch_stats(ctx, progress),
               "seconds": progress["seconds"]}
        run.scheduler.step()
        progress = new_epoch(epoch + 1, progress["step"])
        if ctx.is_main:
            val = (run.validation.clip_metrics(trainer.eval_batch_size) if run.validation is not None else
                   evaluate_dataset(spotter, run.val_set, batch_size=trainer.eval_batch_size, device=ctx.device))
            row.update(val_loss=val["loss"], val_accuracy=val["accuracy"])
            every = trainer.live.select_every
            if every and ((epoch + 1) % every == 0 or epoch + 1 == trainer.max_epochs):
                row.update(select(run, epoch + 1))
            run.history.append(row)
            for key, value in row.items():
                if key != "epoch":
                    run.writer.add_scalar(f"epoch/{key}", value, epoch + 1)
            log.info("epoch %d: %s", epoch + 1, ", ".join(f"{k} {v:.4g}" for k, v in row.items() if k != "epoch"))
        if epoch + 1 in mining:  # every rank mines the same windows with the same weights
            count = math.ceil(trainer.live.mined_windows * len(run.live.clips))
            found = (run.cache.mine(spotter, run.live, count) if run.cache is not None
                     else mine_round(run.live, spotter, count, ctx.device))
            run.new_loader()
            log.info("mined %d hard negatives (%d in all)", len(found), len(run.live.mined))
        if ctx.is_main:
            run.save_resume(progress)
        distributed.barrier(ctx)

    result: dict = {"run_dir": str(run.run_dir)}
    if ctx.is_main:
        run.writer.close()
        spotter.eval()
        if run.best is not None:
            spotter.load_state_dict(torch.load(run.run_dir / BEST_NAME, map_location=ctx.device, weights_only=True))
        # best.pt was calibrated on the streams when it was chosen; the shipped calibration may reuse that.
        calibrated = shipped_calibration(run.corpus, trainer.live, spotter, ctx.device, run.best_calibration,
                                         run.validation.scored if run.validation is not None else None)
        if calibrated is not None:
            write_calibration(spotter.extra, calibrated)
        spotter.save(run.run_dir / MODEL_NAME)
        metrics = write_run_outputs(trainer, run.corpus.root, spotter, run.history, run.run_dir, device=ctx.device)
        if calibrated is not None:
            metrics["calibration"] = spotter.extra["calibration"] | {
                "thresholds": spotter.extra["thresholds"], "selected_epoch": (run.best or {}).get("epoch"),
                "real_heldout": real_heldout_check(run.corpus, trainer.live, spotter, ctx.device)}
            (run.run_dir / METRICS_NAME).write_text(json.dumps(metrics, indent=2))
        result.update(model=str(run.run_dir / MODEL_NAME), metrics=metrics)
    distributed.barrier(ctx)
    return result


def select(run: Run, epoch: int) -> dict[str, float]:
    """Calibrate the current weights on the validation streams; keep them in ``best.pt`` when they beat the best.

    Returns:
        ``val_recall`` and ``val_fa_per_hour`` at the calibrated thresholds (empty without validation streams).
    """
    cached = run.validation.scored if run.validation is not None else None
    calibration = validation_calibration(run.corpus.root, run.trainer.live, run.spotter, run.ctx.device, cached)
    if calibration is None:
        return {}
    fa_per_hour = calibration.point.fa_per_hour or 0.0
    if better(calibration, run.best):
        atomic_save(run.spotter.state_dict(), run.run_dir / BEST_NAME)
        run.best_calibration = calibration
        run.best = {"epoch": epoch, "recall": calibration.recall, "fa_per_hour": fa_per_hour}
    return {"val_recall": calibration.recall, "val_fa_per_hour": fa_per_hour}


def new_epoch(epoch: int, step: int) -> dict:
    """Progress at the start of an epoch: position, and zeroed running statistics and wall time."""
    return {"epoch": epoch, "step": step, "batch_in_epoch": 0, "loss_sum": 0.0, "correct": 0, "seen": 0,
            "seconds": 0.0}


def train_epoch(run: Run, progress: dict, epoch: int) -> dict:
    """One pass over this rank's batches, from ``progress["batch_in_epoch"]`` on.

    Returns:
        The updated progress: global step, batches done, this epoch's running loss, accuracy and seconds.
    """
    trainer, ctx = run.trainer, run.ctx
    run.forward.train()
    progress = dict(progress)
    show = ctx.is_main and trainer.progress_bar and sys.stderr.isatty()  # a log file gets the epoch lines only
    bar = tqdm(run.loader, total=len(run.loader.batch_sampler), initial=progress["batch_in_epoch"], unit="batch",
               desc=f"epoch {epoch + 1}/{trainer.max_epochs}", disable=not show, dynamic_ncols=True, leave=False)
    tick, seen_since = time.perf_counter(), 0
    started = tick - progress["seconds"]  # this epoch's wall time includes what ran before a resume
    for wave, label in bar:
        logits, loss = train_step(run, wave, label, progress["step"])
        label = label.to(logits.device)
        batch, loss_value = label.shape[0], loss.item()
        progress["step"] += 1
        progress["batch_in_epoch"] += 1
        progress["loss_sum"] += loss_value * batch
        progress["correct"] += int((combined(logits).argmax(-1) == label).sum())
        progress["seen"] += batch
        seen_since += batch * ctx.world_size
        if run.writer is not None:
            run.writer.add_scalar("step/loss", loss_value, progress["step"])
        if show:
            bar.set_postfix(loss=f"{progress['loss_sum'] / progress['seen']:.3f}",
                            acc=f"{progress['correct'] / progress['seen']:.3f}",
                            samples_s=f"{seen_since / (time.perf_counter() - tick):.0f}")
        every = trainer.checkpoint_every_n_steps
        if every and progress["step"] % every == 0 and ctx.is_main:
            progress["seconds"] = time.perf_counter() - started
            run.save_resume(progress)
    bar.close()
    progress["seconds"] = time.perf_counter() - started
    return progress


def train_step(run: Run, wave: torch.Tensor, label: torch.Tensor, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimiser step on a batch of clips: random crop, forward, loss, backward, clipping, update.

    Args:
        run: The training process.
        wave: Clips of at least one window, on any device; with a feature cache, windows of cached
            features (B, C, frames), already cropped.
        label: Their classes.
        step: Global step number, which seeds the crops.

    Returns:
        ``(logits, loss)`` on the training device.

    Shape:
        wave: (B, S), or (B, C, frames) cached. label: (B,). logits: (B, K), or (B, K, M) per member. loss: ().
    """
    trainer, ctx = run.trainer, run.ctx
    if run.cache is None:
        crops = torch.Generator().manual_seed(derive_seed(trainer.seed, ctx.rank, step))
        wave = random_crop(wave, run.spotter.window_samples, crops)  # (B, W)
    wave = wave.to(ctx.device, non_blocking=True)
    label = label.to(ctx.device, non_blocking=True)
    with torch.autocast(device_type=ctx.device.type, dtype=torch.float16, enabled=run.scaler.is_enabled()):
        logits = run.forward(wave)  # (B, K), or (B, K, M) for an ensemble's members
        # Each member against the label: the loss averages over (B, M) positions.
        loss = run.loss_fn(logits.float(), label if logits.dim() == 2 else label[:, None].expand(-1, logits.shape[-1]))
    run.optimizer.zero_grad(set_to_none=True)
    run.scaler.scale(loss).backward()
    if trainer.grad_clip:
        run.scaler.unscale_(run.optimizer)
        nn.utils.clip_grad_norm_(run.spotter.parameters(), trainer.grad_clip)
    run.scaler.step(run.optimizer)
    run.scaler.update()
    return logits, loss


def epoch_stats(ctx: distributed.DistContext, progress: dict) -> dict[str, float]:
    """Training loss and accuracy of the epoch, summed over all ranks."""
    totals = distributed.all_reduce_sum(ctx, torch.tensor(
        [progress["loss_sum"], progress["correct"], progress["seen"]], dtype=torch.float64, device=ctx.device))
    loss_sum, correct, seen = totals.tolist()
    return {"train_loss": loss_sum / max(seen, 1), "train_accuracy": correct / max(seen, 1)}
