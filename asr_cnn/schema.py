"""Config schemas: dataclasses that Hydra checks while it composes, and the checks a type cannot make.

A schema registered in Hydra's ``ConfigStore`` (:data:`asr_cnn.config.SCHEMAS`) is the base of its config
group: ``conf/<group>/default.yaml`` lists ``schema`` first in its defaults, so every value the YAML, an
experiment or an override sets is type-checked while composing (``trainer.max_epochs=abc`` fails there).
A group of ``_target_`` configs whose constructors take different arguments (``model``, ``optimizer``) has a
schema per option instead (:data:`asr_cnn.config.OPTION_SCHEMAS`, each extending :class:`Target`), stored as
``schema/<group>/<option>``: ``conf/train.yaml`` lists the chosen option's before the option itself
(``optional schema/model@model: ${model}``), so a constructor's file stays a plain ``_target_`` config that loads
on its own, and an option without a schema composes untyped. A recipe's primary config lists its own schema
(``<recipe>_schema``, :data:`asr_cnn.recipes.config.RECIPE_SCHEMAS`) first in its defaults.
Schema fields have no defaults (``MISSING``): the YAML gives every value, so defaults live in one place.

Each field says what it must be (:func:`setting`): the phrase in its error message, and a check of what
its type cannot say (a range, two ordered bounds), which :func:`typed` runs when a function turns its
config node into the schema's object. Both kinds of error are one line naming the key, the expectation
and the value received, raised as the schema's ``error`` class (``ValueError`` unless it names another).
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from hydra.errors import ConfigCompositionException
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException, ValidationError

Schema = TypeVar("Schema")

_INDEX = re.compile(r"\[[^\]]*\]")  # list positions in an OmegaConf key: "tail_s[0]"


def setting(must: str, valid: Callable[[Any], bool] | None = None) -> Any:
    """A schema field whose value the YAML gives.

    Args:
        must: What the value must do, as the error message says it ("be an integer >= 1").
        valid: Whether a value of the right type is acceptable; ``None`` when the type says it all.
    """
    return dataclasses.field(default=MISSING, metadata={"must": must, "valid": valid})


def integer(low: int, optional: bool = False) -> Any:
    """An integer ``>= low`` (or ``None`` when ``optional``)."""
    return setting(f"be an integer >= {low}{' (or null)' if optional else ''}",
                   lambda v: (optional and v is None) or (v is not None and v >= low))


def number(low: float, high: float = float("inf"), optional: bool = False) -> Any:
    """A number in ``[low, high]`` (or ``None`` when ``optional``)."""
    where = f">= {low}" if high == float("inf") else f"in [{low}, {high}]"
    return setting(f"be a number {where}{' (or null)' if optional else ''}",
                   lambda v: (optional and v is None) or (v is not None and low <= v <= high))


def positive() -> Any:
    """A number ``> 0``."""
    return setting("be a number > 0", lambda v: v > 0)


def flag() -> Any:
    """``true`` or ``false``."""
    return setting("be true or false")


def interval(must: str, low: float = float("-inf"), high: float = float("inf")) -> Any:
    """Two numbers ``[a, b]`` with ``low <= a <= b <= high``; ``must`` says so in words."""
    return setting(must, lambda v: len(v) == 2 and low <= v[0] <= v[1] <= high)


@dataclasses.dataclass
class Target:
    """The class a ``_target_`` config builds; the schema of a constructor's config extends it with the arguments."""

    _target_: str = setting("be a class path")


@dataclasses.dataclass
class Partial(Target):
    """A ``_target_`` config that Hydra's ``instantiate`` turns into a partial (``_partial_: true``)."""

    _partial_: bool = flag()


def typed(schema: type[Schema], node: Any, key: str) -> Schema:
    """The schema's object for a config node, every value checked.

    Args:
        schema: A schema dataclass.
        node: The composed node (its interpolations resolved in the whole config), or a plain mapping.
        key: Where the node sits in the config (``trainer``; ``""`` for a recipe's whole config), for error messages.

    Raises:
        ValueError: The schema's ``error`` class: a value of the wrong type or out of range, a key the schema
            lacks, or a missing value; one line naming the key.
    """
    error = getattr(schema, "error", ValueError)
    plain = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node
    try:
        value = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(schema), plain))
    except OmegaConfBaseException as err:
        raise error(node_error(err, {key: schema}, prefix=key)) from None
    check(value, key, error)
    return value


def check(value: Any, key: str, error: type[ValueError] = ValueError) -> None:
    """Run the checks of every field of a schema object (and of the schema objects inside it).

    Raises:
        ValueError: ``error``, naming the first bad key, what it must be, and its value.
    """
    for spec in dataclasses.fields(value):
        item, where = getattr(value, spec.name), f"{key}.{spec.name}" if key else spec.name
        if dataclasses.is_dataclass(item):
            check(item, where, error)
        elif spec.metadata.get("valid") is not None and not spec.metadata["valid"](item):
            raise error(f"{where} must {spec.metadata['must']}, got {item!r}")


def composition_error(err: ConfigCompositionException, schemas: Mapping[str, type]) -> ValueError:
    """Hydra's error for a command line it could not compose, as one line: what a schema field must be when
    a value was refused, otherwise Hydra's message and OmegaConf's reason."""
    cause = err.__cause__
    if not isinstance(cause, OmegaConfBaseException):
        return ValueError(" ".join(str(err).split()))
    group = (cause.full_key or "").partition(".")[0]
    return getattr(schemas.get(group), "error", ValueError)(node_error(cause, schemas, context=str(err)))


def node_error(err: OmegaConfBaseException, schemas: Mapping[str, type], prefix: str = "",
               context: str = "") -> str:
    """One line for OmegaConf's error: ``<key> must <...>, got <value>`` when the key is a schema field's,
    otherwise ``context`` (Hydra's message) and OmegaConf's, without its detail lines."""
    full_key = ".".join(part for part in (prefix, _INDEX.sub("", err.full_key or "")) if part)
    found = _field(full_key, schemas) or _own_field(err, full_key)
    if found is not None and isinstance(err, ValidationError):
        where, spec = found
        return f"{where} must {spec.metadata.get('must', f'be of type {spec.type}')}, got {err.value!r}"
    reason = (err.msg or type(err).__name__).splitlines()[0]
    return " ".join(f"{context}: {reason}".split()) if context else f"{full_key or 'config'}: {reason}"


def _field(full_key: str, schemas: Mapping[str, type]) -> tuple[str, dataclasses.Field] | None:
    """The schema field a dotted key falls in (the key as far as the field), or ``None``."""
    group, _, rest = full_key.partition(".")
    schema, where, found = schemas.get(group), group, None
    for name in rest.split(".") if rest else []:
        if schema is None or not dataclasses.is_dataclass(schema):
            break  # inside a list or mapping field: the field is the answer
        spec = {f.name: f for f in dataclasses.fields(schema)}.get(name)
        if spec is None:
            return None
        where, found = f"{where}.{name}", spec
        schema = _dataclass_in(typing.get_type_hints(schema).get(name))
    return (where, found) if found is not None else None


def _own_field(err: OmegaConfBaseException, full_key: str) -> tuple[str, dataclasses.Field] | None:
    """The field of the schema object a refused value was given to (a group whose options each have their own
    schema), or ``None``."""
    owner = getattr(err, "object_type", None)
    if not (isinstance(owner, type) and dataclasses.is_dataclass(owner)):
        return None
    spec = {f.name: f for f in dataclasses.fields(owner)}.get(str(err.key))
    return (full_key, spec) if spec is not None else None


def _dataclass_in(hint: Any) -> type | None:
    """The schema dataclass a type hint holds (``X`` or ``X | None``), else ``None``."""
    for candidate in (hint, *typing.get_args(hint)):
        if isinstance(candidate, type) and dataclasses.is_dataclass(candidate):
            return candidate
    return None
