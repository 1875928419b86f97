"""Where a module's tensors live, so that tensors made to feed it (probes, zero states) live there too."""

from __future__ import annotations

import itertools
from typing import Any

import torch
from torch import nn


def placement(module: nn.Module) -> dict[str, Any]:
    """``device`` and ``dtype`` of the module's first floating-point parameter or buffer.

    Spread into a factory call (``torch.zeros(shape, **placement(model))``) so that a probe follows the
    model to a GPU or to float64; a module without floating-point tensors gets torch's defaults.
    """
    for tensor in itertools.chain(module.parameters(), module.buffers()):
        if tensor.is_floating_point():
            return {"device": tensor.device, "dtype": tensor.dtype}
    return {"device": torch.get_default_device(), "dtype": torch.get_default_dtype()}
