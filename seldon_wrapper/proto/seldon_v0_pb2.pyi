from google.protobuf import any_pb2 as _any_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ClassificationRequestMeta(_message.Message):
    __slots__ = ("puid",)
    PUID_FIELD_NUMBER: _ClassVar[int]
    puid: str
    def __init__(self, puid: _Optional[str] = ...) -> None: ...

class ClassificationRequest(_message.Message):
    __slots__ = ("meta", "data")
    META_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    meta: ClassificationRequestMeta
    data: _any_pb2.Any
    def __init__(self, meta: _Optional[_Union[ClassificationRequestMeta, _Mapping]] = ..., data: _Optional[_Union[_any_pb2.Any, _Mapping]] = ...) -> None: ...

class ClassificationReplyMeta(_message.Message):
    __slots__ = ("puid", "modelName")
    PUID_FIELD_NUMBER: _ClassVar[int]
    MODELNAME_FIELD_NUMBER: _ClassVar[int]
    puid: str
    modelName: str
    def __init__(self, puid: _Optional[str] = ..., modelName: _Optional[str] = ...) -> None: ...

class ClassificationResult(_message.Message):
    __slots__ = ("prediction", "predictedClass", "confidence")
    PREDICTION_FIELD_NUMBER: _ClassVar[int]
    PREDICTEDCLASS_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    prediction: float
    predictedClass: str
    confidence: float
    def __init__(self, prediction: _Optional[float] = ..., predictedClass: _Optional[str] = ..., confidence: _Optional[float] = ...) -> None: ...

class ClassificationReply(_message.Message):
    __slots__ = ("meta", "predictions", "custom")
    META_FIELD_NUMBER: _ClassVar[int]
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_FIELD_NUMBER: _ClassVar[int]
    meta: ClassificationReplyMeta
    predictions: _containers.RepeatedCompositeFieldContainer[ClassificationResult]
    custom: _any_pb2.Any
    def __init__(self, meta: _Optional[_Union[ClassificationReplyMeta, _Mapping]] = ..., predictions: _Optional[_Iterable[_Union[ClassificationResult, _Mapping]]] = ..., custom: _Optional[_Union[_any_pb2.Any, _Mapping]] = ...) -> None: ...
