"""Domain errors: each carries a message written for the person using the app."""

from __future__ import annotations

from playground.terminal import escape_controls


class PlaygroundError(Exception):
    """Base of every error the app reports to a user.

    ``str(error)`` is the user-facing message; it never needs a traceback to be understood.
    Messages quote text from outside (a server's error body, a file, a template), so control
    characters in them are escaped here, once for the CLI and the window alike: a hostile
    endpoint cannot set a terminal's title or clear its screen through an error.
    """

    def __str__(self) -> str:
        return escape_controls(super().__str__())


class ModelFileError(PlaygroundError):
    """The file is not a GGUF model we can read (wrong magic, truncated, hostile sizes...)."""


class ModelNotFoundError(PlaygroundError):
    """A model name or path given by the user does not resolve to a file."""


class ModelLoadError(PlaygroundError):
    """llama.cpp could not load a model that passed the header check."""


class InsufficientMemoryError(ModelLoadError):
    """Loading would need more memory than the machine has available."""


class SamplingError(PlaygroundError, ValueError):
    """A sampling setting is out of range or of the wrong kind."""


class ContextOverflowError(PlaygroundError):
    """The prompt does not fit in the model's context window."""


class TemplateError(PlaygroundError):
    """A Jinja template (prompt or chat template) failed to compile or render."""


class ConstraintError(TemplateError):
    """An output constraint cannot be used: not JSON, not a schema, a grammar llama.cpp refuses,
    a schema feature the local grammar converter cannot enforce."""


class WorkerCrashed(PlaygroundError):  # noqa: N818 - the name users see in reports
    """The model worker process died (native abort, segfault, OOM kill)."""

    def __init__(self, message: str, exitcode: int | None = None) -> None:
        super().__init__(message)
        self.exitcode = exitcode


class GenerationError(PlaygroundError):
    """A generation failed inside a live worker for a reason other than a crash."""


class HubError(PlaygroundError):
    """Hugging Face could not answer what was asked (search, a repository's files, a download)."""


class HubAccessError(HubError):
    """The hub refused access: a gated model whose licence is not accepted, or a bad token."""


class HubNotFoundError(HubError):
    """No such repository, file or revision on the hub."""


class HubOfflineError(HubError):
    """Offline mode is on (``HF_HUB_OFFLINE``), or the hub cannot be reached."""


class DownloadError(HubError):
    """A download was refused or failed its checks; nothing of it is offered as a model."""


class DownloadCancelled(DownloadError):  # noqa: N818 - a stop, not a failure, in the user's words
    """The download was stopped; what arrived is kept so that the next attempt resumes."""
