"""Model backends. Nothing here imports Qt: the engine runs headless, in the CLI and in tests."""

from inspector.engine.backend import Backend, Branch, FinishCallback, ModelInfo, TokenCallback
from inspector.engine.cancel import CancelToken
from inspector.engine.engine import Engine
from inspector.engine.errors import (
    ChatTemplateError,
    DecodeError,
    DefaultModelError,
    EngineError,
    InvalidNumbersError,
    InvalidParameterError,
    ModelFileNotFoundError,
    ModelLoadError,
    NotGGUFError,
    PromptTooLongError,
    RemoteServerError,
    RemoteUnreachableError,
    TruncatedModelError,
    UnsupportedArchitectureError,
)
from inspector.engine.records import Alternative, GeneratedSequence, TokenEvent, TokenRecord
from inspector.engine.settings import GREEDY, GenerationSettings, ModelSettings, SamplingSettings

__all__ = [
    "GREEDY",
    "Alternative",
    "Backend",
    "Branch",
    "CancelToken",
    "ChatTemplateError",
    "DecodeError",
    "DefaultModelError",
    "Engine",
    "EngineError",
    "FinishCallback",
    "GeneratedSequence",
    "GenerationSettings",
    "InvalidNumbersError",
    "InvalidParameterError",
    "ModelFileNotFoundError",
    "ModelInfo",
    "ModelLoadError",
    "ModelSettings",
    "NotGGUFError",
    "PromptTooLongError",
    "RemoteServerError",
    "RemoteUnreachableError",
    "SamplingSettings",
    "TokenCallback",
    "TokenEvent",
    "TokenRecord",
    "TruncatedModelError",
    "UnsupportedArchitectureError",
]
