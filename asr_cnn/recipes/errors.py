"""User mistakes as one line on standard error, not a traceback.

A bad audio file, checkpoint, override value or missing folder raises one of the project's errors
(``AudioError`` and the other ``ValueError``s, ``OSError``s, OmegaConf's errors for missing or mistyped
config values). A console command prints ``<command>: error: <message>`` and exits with status 2.
Set ``HYDRA_FULL_ERROR=1`` to get the traceback instead, as for Hydra's own errors.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from omegaconf.errors import OmegaConfBaseException

USER_ERRORS = (ValueError, OSError, OmegaConfBaseException)
"""What a user's input can cause; anything else is a bug and keeps its traceback."""

EXIT_USER_ERROR = 2

Task = TypeVar("Task", bound=Callable[..., Any])


def user_errors(task: Task) -> Task:
    """Wrap a Hydra task function so that :data:`USER_ERRORS` end the process with one line."""

    @functools.wraps(task)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return task(*args, **kwargs)
        except USER_ERRORS as err:
            if os.environ.get("HYDRA_FULL_ERROR") == "1":
                raise
            print(f"{Path(sys.argv[0]).name}: error: {one_line(err)}", file=sys.stderr)
            sys.exit(EXIT_USER_ERROR)

    return wrapped  # type: ignore[return-value]


def one_line(err: BaseException) -> str:
    """The message on one line; an operating-system error as ``<file>: <reason>``, without its errno."""
    message = str(err)
    if isinstance(err, OSError) and err.strerror and err.filename is not None:
        files = " -> ".join(str(name) for name in (err.filename, err.filename2) if name is not None)
        message = f"{files}: {err.strerror}"
    return " ".join(message.split()) or type(err).__name__
