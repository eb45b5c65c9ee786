"""Model backends. Nothing here imports Qt: the engine runs headless, in the CLI and in tests."""

from inspector.engine.cancel import CancelToken
from inspector.engine.engine import Engine, ModelInfo
from inspector.engine.errors import (
    ChatTemplateError,
    DecodeError,
    DefaultModelError,
    EngineError,
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
from inspector.engine.explorer import Branch
from inspector.engine.records import Alternative, GeneratedSequence, TokenEvent, TokenRecord
from inspector.engine.settings import GREEDY, GenerationSettings, ModelSettings, SamplingSettings

__all__ = [
    "GREEDY",
    "Alternative",
    "Branch",
    "CancelToken",
    "ChatTemplateError",
    "DecodeError",
    "DefaultModelError",
    "Engine",
    "EngineError",
    "GeneratedSequence",
    "GenerationSettings",
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
    "TokenEvent",
    "TokenRecord",
    "TruncatedModelError",
    "UnsupportedArchitectureError",
]
