"""Which ``_target_``s a config read from a file may build: the project's own model classes, nothing else.

A config written by the user (the Hydra ``conf/`` tree and its overrides) may name any callable; a config
that arrives inside a file someone else wrote (a checkpoint) must not, because Hydra's ``instantiate``
imports and calls whatever ``_target_`` says (``os.system``, or a project module that runs external
programs). :func:`check_file_config` walks such a config before anything is built and refuses it unless
every ``_target_`` is a :class:`torch.nn.Module` class defined in one of :data:`MODEL_PACKAGES` or in a
package that Python code (never a file) added with :func:`add_model_packages`.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import Any

from torch import nn

MODEL_PACKAGES = ("asr_cnn.frontend", "asr_cnn.layers", "asr_cnn.models")
"""Packages whose modules build the spotter; ``asr_cnn.data`` (which runs synthesis programs) is not one."""

_trusted = list(MODEL_PACKAGES)

TARGET_KEY = "_target_"
REFUSED_KEYS = ("_args_", "_partial_", "_recursive_", "_convert_")
"""Hydra's other instantiate keys: a saved spotter config has none, so a file holding one was crafted."""

INTERPOLATION = "${"


def add_model_packages(*packages: str) -> None:
    """Let files build the ``nn.Module`` classes of these packages too: your own model code, like the
    project's (as ``torch.serialization.add_safe_globals`` widens what ``weights_only`` loads)."""
    _trusted.extend(package for package in packages if package not in _trusted)


def in_model_packages(module_name: str) -> bool:
    """Whether a dotted module name is one of the trusted model packages or inside one."""
    return any(module_name == package or module_name.startswith(package + ".") for package in _trusted)


def check_target(target: Any, source: str | os.PathLike) -> type[nn.Module]:
    """The class a ``_target_`` from ``source`` names, once it is known to be one of the project's modules.

    The name is checked before its module is imported; the attribute is read from that module's own
    namespace (no attribute chain through re-exported modules such as ``asr_cnn.layers.conv2d.torch``)
    and must be an ``nn.Module`` subclass defined in a trusted package before anything may call it.

    Raises:
        ValueError: Naming ``source`` and the refused target.
    """
    module_name, _, attribute = target.rpartition(".") if isinstance(target, str) else ("", "", "")
    if not in_model_packages(module_name):
        raise ValueError(f"{source}: refused _target_ {target!r}: a file may only build classes from "
                         f"{', '.join(_trusted)}")
    try:
        obj = vars(importlib.import_module(module_name)).get(attribute)
    except ImportError as err:
        raise ValueError(f"{source}: refused _target_ {target!r}: {err}") from err
    if not (isinstance(obj, type) and issubclass(obj, nn.Module) and in_model_packages(obj.__module__)):
        raise ValueError(f"{source}: refused _target_ {target!r}: not an nn.Module class of "
                         f"{', '.join(_trusted)}")
    return obj


def check_file_config(config: Any, source: str | os.PathLike) -> None:
    """Refuse a config read from ``source`` unless instantiating it can only build the project's modules.

    Every mapping at any depth (lists included) is checked: its ``_target_`` with :func:`check_target`,
    and it may hold none of :data:`REFUSED_KEYS`. Strings may not hold ``${`` interpolations, whose
    resolvers would run when the config is read (a saved config is stored resolved).

    Raises:
        ValueError: Naming ``source`` and the refused key, target or value.
    """
    if isinstance(config, Mapping):
        for key in REFUSED_KEYS:
            if key in config:
                raise ValueError(f"{source}: refused config key {key!r} (a saved spotter config has none)")
        if TARGET_KEY in config:
            check_target(config[TARGET_KEY], source)
        children = list(config.values())
    elif isinstance(config, (list, tuple)):
        children = list(config)
    else:
        if isinstance(config, str) and INTERPOLATION in config:
            raise ValueError(f"{source}: refused interpolation {config!r} (a saved config is stored resolved)")
        return
    for child in children:
        check_file_config(child, source)
