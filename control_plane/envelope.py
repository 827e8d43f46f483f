"""The one DDS type of every Sluice topic: a key and a msgpack body.

No ``from __future__ import annotations`` here: Cyclone resolves IDL field types
from the real annotation objects, not from strings.
"""
from dataclasses import dataclass

from cyclonedds.idl import IdlStruct
from cyclonedds.idl.annotations import key
from cyclonedds.idl.types import sequence, uint8


@dataclass
class Envelope(IdlStruct, typename="sluice.Envelope"):
    key: str
    key("key")
    body: sequence[uint8]
