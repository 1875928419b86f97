"""User mistakes as one line on standard error, not a traceback.

A bad audio file, checkpoint, override value or missing folder raises one of the project's errors
(``AudioError`` and the other ``ValueError``s, ``OSError``s, OmegaConf's errors for missing or mistyped
config values), and so does an override that Hydra cannot compose (a value a schema refuses, a key the
config lacks). A console command prints ``<command>: error: <message>`` and exits with status 2.
Set ``HYDRA_FULL_ERROR=1`` to get the traceback instead, as for Hydra's own errors.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import hydra
from hydra.errors import ConfigCompositionException
from omegaconf.errors import OmegaConfBaseException

from asr_cnn.config import CONF_DIR, SCHEMAS
from asr_cnn.schema import composition_error

USER_ERRORS = (ValueError, OSError, OmegaConfBaseException)
"""What a user's input can cause; anything else is a bug and keeps its traceback."""

EXIT_USER_ERROR = 2

FULL_ERROR = "HYDRA_FULL_ERROR"

Task = TypeVar("Task", bound=Callable[..., Any])


def user_errors(task: Task) -> Task:
    """Wrap a task so that :data:`USER_ERRORS` end the process with one line; with ``HYDRA_FULL_ERROR=1``
    set, the task as it is (its errors keep their tracebacks)."""
    if os.environ.get(FULL_ERROR) == "1":
        return task

    @functools.wraps(task)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return task(*args, **kwargs)
        except USER_ERRORS as err:
            report(err)

    return wrapped  # type: ignore[return-value]


def recipe(config_name: str) -> Callable[[Callable[[Any], Any]], Callable[[], Any]]:
    """``@hydra.main`` over ``conf/<config_name>.yaml`` with :func:`user_errors`, composing included.

    Hydra composes before the task runs and prints its own errors over several lines; it is asked to raise
    them instead (``HYDRA_FULL_ERROR`` while it runs), so a mistyped override reads like any other mistake.
    """
    def decorate(task: Callable[[Any], Any]) -> Callable[[], Any]:
        @functools.wraps(task)
        def main() -> Any:
            job = user_errors(task)  # the task's mistakes are reported inside the job: Hydra would add a line
            hydra_main = hydra.main(config_path=str(CONF_DIR), config_name=config_name, version_base="1.3")(job)
            if job is task:  # HYDRA_FULL_ERROR=1: Hydra as it is, tracebacks included
                return hydra_main()
            os.environ[FULL_ERROR] = "1"
            try:
                return hydra_main()
            except ConfigCompositionException as err:
                report(err if isinstance(err, OSError) else composition_error(err, SCHEMAS))
            finally:
                del os.environ[FULL_ERROR]

        return main

    return decorate


def report(err: BaseException) -> None:
    """End the process with the error as one line and :data:`EXIT_USER_ERROR`."""
    print(f"{Path(sys.argv[0]).name}: error: {one_line(err)}", file=sys.stderr)
    sys.exit(EXIT_USER_ERROR)


def one_line(err: BaseException) -> str:
    """The message on one line; an operating-system error as ``<file>: <reason>``, without its errno."""
    message = str(err)
    if isinstance(err, OSError) and err.strerror and err.filename is not None:
        files = " -> ".join(str(name) for name in (err.filename, err.filename2) if name is not None)
        message = f"{files}: {err.strerror}"
    return " ".join(message.split()) or type(err).__name__
