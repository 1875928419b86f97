"""A frozen backbone's top trained on cached features: equal to the whole spotter, streamed slices exact,
the backbone not rerun while training, and the checkpoint an ordinary one; the same for a backbone
fine-tuned only at the top, cut inside it."""

from __future__ import annotations

import pytest
import torch
from conftest import tiny_overrides

from asr_cnn import KeywordSpotter
from asr_cnn.config import compose_config
from asr_cnn.data.datasets.negatives import WindowSources
from asr_cnn.data.datasets.training_set import LiveData
from asr_cnn.detect import Detector
from asr_cnn.streaming import naive_scan, scan
from asr_cnn.training import distributed
from asr_cnn.training.feature_cache import CachedForward, FeatureCache, frozen_split, stream_features
from asr_cnn.training.forward import TrainingForward
from asr_cnn.training.loop import build_run, new_epoch, train, train_epoch
from asr_cnn.training.mining import mine

LABELS = "+labels=[_silence_,_unknown_,a,b]"
FROZEN = ("model=speech_embedding_tdnn", "model.trainable_blocks=0")
LONG_WINDOW = (*FROZEN, "spotter.window_seconds=2.0", "model.channels=[8,8]", "model.offsets=[[-1,0,1],[-3,0,3]]",
               "model.strides=[1,1]", "head.pool=learned")
MEMBERS = ("model=speech_embedding", "model.trainable_blocks=0", "head=tdnn_heads", "head.members=2",
           "head.channels=[8]")


@pytest.fixture(scope="module", params=[0, 2], ids=["frozen", "top2"])
def spotter(request) -> KeywordSpotter:
    """The pretrained experiment's spotter, its backbone frozen whole or fine-tuned in its top two stages."""
    torch.manual_seed(0)
    return KeywordSpotter.from_config(compose_config("train", ["experiment=pretrained", LABELS,
                                                               f"model.trainable_blocks={request.param}"]))


def audio(samples: int, seed: int) -> torch.Tensor:
    """Noise with a loud stretch in the middle, so the windows differ. Shape (samples,)."""
    wave = 0.01 * torch.randn(samples, generator=torch.Generator().manual_seed(seed))
    wave[samples // 3: samples // 2] *= 30
    return wave


def test_the_cut_falls_where_the_frozen_stages_end():
    def split(*overrides: str):
        return frozen_split(KeywordSpotter.from_config(compose_config("train", [*overrides, LABELS])))

    assert split("experiment=tiny") is None
    assert split("experiment=pretrained", "model.trainable_blocks=6") is None  # nothing pretrained is frozen
    whole = split("experiment=pretrained")
    assert list(dict(whole.rest.named_children())) == ["tdnn", "head"]
    top2 = split("experiment=pretrained", "model.trainable_blocks=2")
    assert list(dict(top2.prefix.backbone.named_children())) == ["to_image", "block1", "block2", "block3", "block4"]
    assert list(dict(top2.rest.backbone.named_children())) == ["block5", "embed", "flatten"]
    assert all(not p.requires_grad for p in top2.prefix.parameters())
    assert all(p.requires_grad for p in top2.rest.backbone.parameters())
    assert top2.hop_samples == whole.hop_samples // 2  # block4's maps come every 40 ms, embeddings every 80 ms


def test_cached_training_step_equals_the_whole_spotter(spotter):
    split = frozen_split(spotter)
    wave = torch.stack([audio(spotter.window_samples, seed) for seed in range(4)])  # (4, W)
    label = torch.tensor([0, 1, 2, 3])
    spotter.train()  # batch norms use batch statistics (both ways see the same batch); dropout the same seed
    torch.manual_seed(1)
    whole = TrainingForward(spotter)(wave)
    with torch.no_grad():
        features = split.prefix(wave)  # (4, 96, [F,] frames): what the cache stores
    assert features.shape[-1] == split.frames
    torch.manual_seed(1)
    cached = CachedForward(split.rest)(features)
    spotter.eval()
    torch.testing.assert_close(cached, whole, atol=1e-5, rtol=0)
    loss = torch.nn.functional.cross_entropy
    torch.testing.assert_close(loss(cached, label), loss(whole, label), atol=1e-6, rtol=0)


def test_cached_members_each_see_the_window_the_whole_spotter_does():
    torch.manual_seed(0)
    members = KeywordSpotter.from_config(compose_config("train", ["experiment=pretrained", LABELS, *MEMBERS]))
    split = frozen_split(members)
    assert list(dict(split.rest.named_children())) == ["head"]  # the body is all frozen: only the heads train
    wave = torch.stack([audio(members.window_samples, seed) for seed in range(4)])  # (4, W)
    members.train()
    torch.manual_seed(1)
    whole = TrainingForward(members)(wave)  # (4, K, M)
    with torch.no_grad():
        features = split.prefix(wave)
    torch.manual_seed(1)
    cached = CachedForward(split.rest).train()(features)
    assert cached.shape == whole.shape == (4, 4, 2)
    torch.testing.assert_close(cached, whole, atol=1e-5, rtol=0)
    members.eval()
    torch.testing.assert_close(CachedForward(split.rest).eval()(features), members(wave).squeeze(-1), atol=1e-5, rtol=0)


def test_a_slice_of_streamed_features_is_the_window_alone(spotter):
    split = frozen_split(spotter).prefix.eval()
    hop, window = frozen_split(spotter).hop_samples, spotter.window_samples
    long = audio(12 * 16000, seed=5)  # more than one segment
    sequence = stream_features(split, long, "cpu")  # (96, [F,] J)
    assert sequence.shape[-1] == 1 + (long.shape[0] - 1 - split.context) // hop
    for frame in (0, 41, sequence.shape[-1] - frozen_split(spotter).frames):
        with torch.no_grad():
            alone = split(long[None, frame * hop: frame * hop + window])[0]  # (96, [F,] frames)
        torch.testing.assert_close(sequence[..., frame:frame + alone.shape[-1]], alone, atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="no frame"):
        stream_features(split, long[:split.context], "cpu")


def test_mining_cached_features_finds_the_windows_mining_audio_does(spotter):
    spotter.eval()
    split = frozen_split(spotter)
    sources = WindowSources([audio(5 * 16000, seed=6), audio(4 * 16000, seed=7)], spotter.window_samples)
    sequences = [stream_features(split.prefix, s, "cpu") for s in sources.sources]  # each (96, [F,] J)
    cache = FeatureCache(split, torch.zeros(1, 0, *sequences[0].shape[:-1], split.frames), torch.zeros(1, 0),
                         sequences, 0, 1, 0)
    live = LiveData(clips=None, parts=[], sources=sources, unknown=1, augment=None, seed=0)
    found = cache.mine(spotter, live, 3)
    assert found == mine(spotter, sources, 3, min_gap=6)
    assert live.mined == found
    assert cache.dataset(found)[0][0].shape == (*sequences[0].shape[:-1], split.frames)


@pytest.mark.parametrize(("trainable_blocks", "enabled", "last_frozen", "trained"), [
    (0, True, "", set()), (0, False, "", set()), (2, True, "block4", {"block5", "embed"}),
], ids=["frozen", "frozen-uncached", "top2"])
def test_cached_epochs_never_run_the_frozen_part(tiny_corpus, tmp_path, trainable_blocks, enabled, last_frozen,
                                                 trained):
    cfg = compose_config("train", tiny_overrides(tiny_corpus, tmp_path, "model=speech_embedding_tdnn",
                                                 f"model.trainable_blocks={trainable_blocks}",
                                                 f"trainer.feature_cache.enabled={enabled}"))
    ctx = distributed.setup("cpu")
    try:
        run = build_run(cfg, ctx)
        backbone = run.spotter.body.backbone
        calls = []
        backbone.get_submodule(last_frozen).register_forward_hook(lambda *_: calls.append(1))
        before = {name: p.clone() for name, p in backbone.named_parameters()}
        top = run.spotter.body.tdnn.layer1.tdnn.conv.weight.clone()
        run.loader.batch_sampler.set_epoch(0)
        progress = train_epoch(run, new_epoch(0, 0), 0)
    finally:
        distributed.cleanup(ctx)
    assert progress["step"] == len(run.loader.batch_sampler) > 0
    assert len(calls) == (0 if enabled else progress["step"])  # cached: the frozen part ran once, into the cache
    assert (run.cache is not None) == enabled
    assert not torch.equal(run.spotter.body.tdnn.layer1.tdnn.conv.weight, top)
    changed = {name.split(".")[0] for name, p in backbone.named_parameters() if not torch.equal(p, before[name])}
    assert changed == trained


@pytest.mark.parametrize("overrides", [FROZEN, LONG_WINDOW, MEMBERS], ids=["1s", "2s", "members"])
def test_a_checkpoint_of_cached_training_loads_and_detects(tiny_corpus, tmp_path, overrides):
    result = train(compose_config("train", tiny_overrides(tiny_corpus, tmp_path, *overrides)))
    loaded = KeywordSpotter.load(result["model"])
    long = overrides is LONG_WINDOW
    assert loaded.window_samples > 1.9 * 16000 if long else loaded.window_samples <= 16000
    assert loaded.extra["thresholds"]
    wave = audio(loaded.window_samples + 9 * loaded.hop_samples, seed=8)
    torch.testing.assert_close(scan(loaded, wave), naive_scan(loaded, wave), atol=1e-4, rtol=0)
    shipped = Detector(loaded)
    assert set(shipped.thresholds) == set(loaded.extra["thresholds"])
    assert all(event.score >= shipped.thresholds[event.keyword] for event in shipped.push(wave))
    eager = Detector(loaded, thresholds=dict.fromkeys(shipped.thresholds, 0.0))  # finite scores all cross 0
    first = eager.push(wave)[0]
    assert (first.start_s, first.end_s) == (0.0, pytest.approx(loaded.window_samples / loaded.sample_rate))
