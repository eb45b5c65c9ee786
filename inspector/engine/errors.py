"""Typed errors of the engine. Each carries one message a person can act on."""

from __future__ import annotations


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class ModelFileNotFoundError(EngineError):
    """The model path does not exist or is not a file."""


class NotGGUFError(EngineError):
    """The file exists but is not a GGUF model file."""


class TruncatedModelError(EngineError):
    """The GGUF file is cut short (an interrupted download or copy)."""


class UnsupportedArchitectureError(EngineError):
    """The GGUF file is well-formed but this llama.cpp build cannot run its architecture."""


class ModelLoadError(EngineError):
    """llama.cpp refused the model or the context for another reason."""


class PromptTooLongError(EngineError):
    """The prompt does not fit in the context window."""


class InvalidParameterError(EngineError, ValueError):
    """A generation or model setting is out of range."""


class DecodeError(EngineError):
    """llama.cpp failed while evaluating a batch."""


class DefaultModelError(EngineError):
    """The bundled default model could not be assembled or verified."""


class ChatTemplateError(EngineError):
    """The model has no chat template, or llama.cpp cannot render it."""


class RemoteUnreachableError(EngineError):
    """The inference server could not be reached (refused, closed, timed out) after retries."""


class RemoteServerError(EngineError):
    """The inference server answered with an error, or with something the inspector cannot use
    (e.g. no log-probabilities)."""


class InvalidNumbersError(EngineError):
    """The model or the server produced numbers that cannot be probabilities (NaN, infinite,
    a log-probability above 0): nothing built on them is kept."""
