"""Ensemble: the members' posteriors averaged, streamed member by member, each member trained on its own loss."""

from __future__ import annotations

import pytest
import torch
from streaming_helpers import check_streaming_contract, randomize_batchnorm
from torch import nn

from asr_cnn.config import compose_config
from asr_cnn.layers import TDNN, Pool1d, StreamingSequential
from asr_cnn.layers.ensemble import Ensemble, combine_members
from asr_cnn.models.spotter import KeywordSpotter
from asr_cnn.models.tdnn_heads import TDNNHeads
from asr_cnn.training.forward import TrainingForward, combined

K = 4


def member(stride: int = 2) -> StreamingSequential:
    """(B, 3, T) -> (B, K, N): a TDNN with a stride, batch norm, ReLU, a pool, class logits."""
    return StreamingSequential(TDNN(3, 6, offsets=[-2, 0, 1], stride=stride), nn.BatchNorm1d(6), nn.ReLU(),
                               Pool1d(3, 1), TDNN(6, K, kernel_size=1))


def test_combined_logits_give_the_mean_posterior():
    logits = torch.randn(5, K, 7, 3)  # (B, K, N, M)
    mean = logits.softmax(1).mean(-1)  # (B, K, N)
    torch.testing.assert_close(combine_members(logits).softmax(1), mean)
    torch.testing.assert_close(combine_members(logits).exp().sum(1), torch.ones(5, 7))  # already normalised
    torch.testing.assert_close(combine_members(logits[..., :1]), logits[..., 0].log_softmax(1))
    torch.testing.assert_close(combined(logits[:, :, 0]), combine_members(logits[:, :, 0]))  # (B, K, M) in training
    plain = torch.randn(5, K)
    assert combined(plain) is plain


def test_forward_averages_the_members_posteriors():
    torch.manual_seed(0)
    ensemble = randomize_batchnorm(Ensemble([member(), member(), member()], K)).eval()
    x = torch.randn(2, 3, 30)
    with torch.no_grad():
        posteriors = torch.stack([m(x).softmax(1) for m in ensemble.members.values()]).mean(0)  # (B, K, N)
        torch.testing.assert_close(ensemble(x).softmax(1), posteriors)
        assert ensemble.member_logits(x).shape == (*posteriors.shape, 3)


@pytest.mark.parametrize("stride", [1, 2])
def test_streams_exactly(stride):
    torch.manual_seed(0)
    ensemble = randomize_batchnorm(Ensemble([member(stride), member(stride)], K))
    assert (ensemble.context, ensemble.stride) == (member(stride).context, stride)
    out = check_streaming_contract(ensemble, torch.randn(3, 3, 41))
    assert set(ensemble.init_state(3)) == {"member0", "member1"}
    assert out.shape[1] == K


def test_members_must_line_up():
    with pytest.raises(ValueError, match="share context and stride"):
        Ensemble([member(1), member(2)], K)
    with pytest.raises(ValueError, match="at least one member"):
        Ensemble([], K)
    with pytest.raises(ValueError, match="members must be >= 1"):
        TDNNHeads(8, K, frames=3, members=0, channels=[4], offsets=[[-1, 0, 1]], strides=[1])
    with pytest.raises(ValueError, match="reads 5 body frames but a window holds 3"):
        TDNNHeads(8, K, frames=3, members=2, channels=[4], offsets=[[-2, 0, 2]], strides=[1])


@pytest.fixture(scope="module")
def spotter() -> KeywordSpotter:
    torch.manual_seed(0)
    cfg = compose_config("train", ["experiment=pretrained", "model=speech_embedding", "head=tdnn_heads",
                                   "head.members=3", "+labels=[_silence_,_unknown_,a,b]"])
    return KeywordSpotter.from_config(cfg)


def test_members_start_apart_and_each_learns_from_its_own_loss(spotter):
    heads = list(spotter.head.members.values())
    first = [m.tdnn.layer1.tdnn.conv.weight for m in heads]
    assert not torch.equal(first[0], first[1]) and not torch.equal(first[1], first[2])
    wave = 0.1 * torch.randn(4, spotter.window_samples, generator=torch.Generator().manual_seed(1))
    label = torch.tensor([0, 1, 2, 3])
    forward = TrainingForward(spotter).train()
    spotter.head.eval()  # no dropout, fixed batch norm: the same logits on every pass
    logits = forward(wave)  # (B, K, M)
    assert logits.shape == (4, 4, 3)
    # What the loop computes: every member against the label, averaged over batch and members.
    loss = nn.functional.cross_entropy(logits, label[:, None].expand(-1, 3))
    grads = torch.autograd.grad(loss, first, retain_graph=True)
    for index, (head, grad) in enumerate(zip(heads, grads)):
        alone = nn.functional.cross_entropy(logits[..., index], label) / 3
        torch.testing.assert_close(grad, torch.autograd.grad(alone, first[index], retain_graph=True)[0])
        assert grad.abs().sum() > 0
    spotter.eval()
    with torch.no_grad():
        torch.testing.assert_close(forward.eval()(wave), combine_members(logits.detach()), atol=1e-5, rtol=0)


def test_checkpoint_round_trip(spotter, tmp_path):
    spotter.eval()
    spotter.save(tmp_path / "members.pt")
    loaded = KeywordSpotter.load(tmp_path / "members.pt")
    wave = 0.1 * torch.randn(2, spotter.window_samples + 5 * spotter.hop_samples)
    with torch.no_grad():
        torch.testing.assert_close(loaded(wave), spotter(wave))
    assert isinstance(loaded.head, TDNNHeads) and len(loaded.head.members) == 3
