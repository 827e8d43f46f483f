"""Turning bytes into model objects and back, with one clear error for every bad input.

Two doors:

- ``decode_input``: what a person wrote (job files, SDK arguments, CLI input).
  JSON or TOML; unknown fields anywhere are refused, because a typo such as
  ``memroy_bytes`` must not silently fall back to a default.
- ``decode_wire`` / ``encode_wire``: internal messages (msgpack). Unknown fields
  are tolerated so a newer peer's messages still decode on an older one.

Both enforce a size limit before parsing and raise ``InvalidInput`` (never a
library exception) with the path of the offending field.
"""
from __future__ import annotations

import re
from typing import Any, Literal, TypeVar

import msgspec

from engine.model import limits
from engine.model.errors import InvalidInput, PayloadTooLarge

T = TypeVar("T")
InputFormat = Literal["json", "toml"]

_wire_encoder = msgspec.msgpack.Encoder()
_wire_decoders: dict[Any, msgspec.msgpack.Decoder] = {}


def encode_wire(obj: Any) -> bytes:
    """Encode a model object for Kafka or DDS (msgpack)."""
    return _wire_encoder.encode(obj)


def decode_wire(data: bytes | memoryview, type_: type[T], *, max_bytes: int = limits.MAX_WIRE_PAYLOAD_BYTES) -> T:
    """Decode an internal message; unknown fields are ignored."""
    _check_size(data, max_bytes)
    decoder = _wire_decoders.get(type_)
    if decoder is None:
        decoder = _wire_decoders.setdefault(type_, msgspec.msgpack.Decoder(type_))
    return _guarded(decoder.decode, data)


def encode_input(obj: Any) -> bytes:
    """Encode a model object as a person would write it (JSON)."""
    return msgspec.json.encode(obj)


def decode_input(
    data: bytes | str,
    type_: type[T],
    *,
    fmt: InputFormat = "json",
    max_bytes: int = limits.MAX_JOB_PAYLOAD_BYTES,
) -> T:
    """Decode what a person wrote; unknown fields anywhere are an error."""
    raw = data.encode() if isinstance(data, str) else data
    _check_size(raw, max_bytes)
    if fmt == "json":
        tree = _guarded(msgspec.json.decode, raw)
    elif fmt == "toml":
        tree = _guarded(msgspec.toml.decode, raw)
    else:
        raise InvalidInput(f"unknown input format {fmt!r}; use json or toml")
    return convert_input(tree, type_)


def convert_input(tree: Any, type_: type[T]) -> T:
    """Validate already-parsed builtins (e.g. SDK keyword arguments) as ``type_``."""
    _reject_unknown_fields(tree, msgspec.inspect.type_info(type_), "$")
    return _guarded(lambda t: msgspec.convert(t, type_), tree)


def _check_size(data: bytes | memoryview, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise PayloadTooLarge(len(data), max_bytes)


def _guarded(fn: Any, arg: Any) -> Any:
    try:
        return fn(arg)
    except msgspec.ValidationError as err:
        message, path = _split_location(str(err))
        raise InvalidInput(message, path=path) from err
    except msgspec.DecodeError as err:
        raise InvalidInput(f"malformed input: {err}") from err
    except RecursionError as err:
        raise InvalidInput("malformed input: nested too deeply") from err


def _split_location(text: str) -> tuple[str, str]:
    """msgspec says "<what> - at `$.a.b`" or "... - at `key` in `$.env`"; no location means the root."""
    message, sep, where = text.rpartition(" - at ")
    if not sep:
        return text, "$"
    paths = re.findall(r"`(\$[^`]*)`", where)
    path = paths[-1] if paths else "$"
    return message, f"{path} (a key)" if where.startswith("`key`") else path


def _reject_unknown_fields(tree: Any, info: msgspec.inspect.Type, path: str) -> None:
    """Walk ``tree`` alongside the type and fail on the first key the type lacks."""
    if isinstance(info, msgspec.inspect.StructType) and isinstance(tree, dict):
        fields = {f.encode_name: f for f in info.fields}
        for key, value in tree.items():
            if key == info.tag_field:
                continue
            field = fields.get(key)
            if field is None:
                raise InvalidInput(f"unknown field `{key}`", path=path)
            _reject_unknown_fields(value, field.type, f"{path}.{key}")
    elif isinstance(info, (msgspec.inspect.ListType, msgspec.inspect.VarTupleType)) and isinstance(tree, list):
        for i, item in enumerate(tree):
            _reject_unknown_fields(item, info.item_type, f"{path}[{i}]")
    elif isinstance(info, msgspec.inspect.DictType) and isinstance(tree, dict):
        for key, value in tree.items():
            _reject_unknown_fields(value, info.value_type, f"{path}.{key}")
    elif isinstance(info, msgspec.inspect.UnionType):
        for member in info.types:  # tagged struct unions: follow the member the tag names
            if isinstance(member, msgspec.inspect.StructType) and isinstance(tree, dict):
                if member.tag_field is None or tree.get(member.tag_field) == member.tag:
                    _reject_unknown_fields(tree, member, path)
                    return
