"""Read the lookup tables out of an exported ONNX graph, for sessions to share.

An embedding table is read by `Gather` only: ONNX Runtime never repacks it, so two sessions on
one graph can look rows up in one copy (`SessionOptions.add_initializer`) instead of each
holding its own. The copy is in memory, not a mapping of the file: a bundle rewritten in place
while it is served would change (or, truncated, crash) a mapped table under the sessions.

It walks the protobuf wire format directly (ModelProto -> GraphProto -> nodes and initializers)
because the `onnx` package is a training dependency, not a serving one.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MIN_SHARED_BYTES = 1 << 20  # below this a copy per session costs nothing worth sharing

# TensorProto.DataType -> numpy; the element types an exported graph's tables can have.
_DTYPES: dict[int, np.dtype[Any]] = {
    1: np.dtype(np.float32),
    2: np.dtype(np.uint8),
    3: np.dtype(np.int8),
    10: np.dtype(np.float16),
    11: np.dtype(np.float64),
}

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5
_GRAPH = 7  # ModelProto.graph
_GRAPH_NODE, _GRAPH_INITIALIZER = 1, 5
_NODE_INPUT, _NODE_OP_TYPE = 1, 4
_TENSOR_DIMS, _TENSOR_TYPE, _TENSOR_NAME, _TENSOR_RAW, _TENSOR_LOCATION = 1, 2, 8, 9, 14


def lookup_tables(model_path: Path) -> dict[str, np.ndarray]:
    """Return {name: read-only array} for each large initializer that only `Gather` nodes read.

    Tables whose bytes are not plain raw data in the file (external data, typed fields) are left
    to the session: they are simply not returned, and neither is anything from a file that is
    not a graph (the session then says what is wrong with it).
    """
    try:
        model = memoryview(model_path.read_bytes())
        return {name: _copied(model, table) for name, table in _tables(model).items()}
    except (OSError, ValueError, IndexError):  # not a graph this can read: the session says why
        return {}


@dataclass(frozen=True)
class _Table:
    dtype: np.dtype[Any]
    dims: tuple[int, ...]
    offset: int  # of its first byte in the file

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.dims)) * self.dtype.itemsize


def _copied(model: memoryview, table: _Table) -> np.ndarray:
    """Return the table's own read-only copy (the file's bytes are freed once read).

    The copy lives in an anonymous mapping of its own, not on the heap: once the array is
    collected (a reload replaced its model) the pages go back to the system at once, where a
    heap block of this size would stay in the process after malloc's threshold has risen.
    """
    pages = mmap.mmap(-1, table.nbytes)
    pages[:] = model[table.offset : table.offset + table.nbytes]
    out = np.frombuffer(pages, dtype=table.dtype).reshape(table.dims)
    out.flags.writeable = False
    return out


def _tables(model: memoryview) -> dict[str, _Table]:
    graph = next((span for number, span in _fields(model, 0, len(model)) if number == _GRAPH), None)
    if not isinstance(graph, tuple):
        return {}
    readers: dict[str, set[str]] = {}
    tables: dict[str, _Table] = {}
    for number, span in _fields(model, *graph):
        if number == _GRAPH_NODE and isinstance(span, tuple):
            op_type, inputs = _node(model, span)
            for name in inputs:
                readers.setdefault(name, set()).add(op_type)
        elif number == _GRAPH_INITIALIZER and isinstance(span, tuple):
            named = _tensor(model, span)
            if named is not None:
                tables[named[0]] = named[1]
    return {name: table for name, table in tables.items() if readers.get(name) == {"Gather"}}


def _node(model: memoryview, span: tuple[int, int]) -> tuple[str, list[str]]:
    op_type, inputs = "", []
    for number, field in _fields(model, *span):
        if number == _NODE_INPUT and isinstance(field, tuple):
            inputs.append(_text(model, field))
        elif number == _NODE_OP_TYPE and isinstance(field, tuple):
            op_type = _text(model, field)
    return op_type, inputs


def _tensor(model: memoryview, span: tuple[int, int]) -> tuple[str, _Table] | None:
    name, dims, dtype, raw = "", [], None, None
    for number, field in _fields(model, *span):
        if number == _TENSOR_NAME and isinstance(field, tuple):
            name = _text(model, field)
        elif number == _TENSOR_DIMS:
            dims.extend(_packed(model, field) if isinstance(field, tuple) else [field])
        elif number == _TENSOR_TYPE and isinstance(field, int):
            dtype = _DTYPES.get(field)
        elif number == _TENSOR_RAW and isinstance(field, tuple):
            raw = field
        elif number == _TENSOR_LOCATION and field:  # EXTERNAL: the bytes are in another file
            return None
    if dtype is None or raw is None or raw[1] - raw[0] < MIN_SHARED_BYTES:
        return None
    table = _Table(dtype, tuple(dims), raw[0])
    return (name, table) if table.nbytes == raw[1] - raw[0] else None


def _fields(data: memoryview, at: int, end: int) -> Iterator[tuple[int, int | tuple[int, int]]]:
    """Yield (field number, value) of the protobuf message in data[at:end]: an int, or the
    (start, end) of a length-delimited value (a string, bytes, a message, packed numbers)."""
    while at < end:
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, at = _varint(data, at)
            yield number, value
        elif wire == _LEN:
            size, at = _varint(data, at)
            if at + size > end:
                raise ValueError(f"not an ONNX graph: a field runs past its message at byte {at}")
            yield number, (at, at + size)
            at += size
        elif wire == _I64:
            at += 8
        elif wire == _I32:
            at += 4
        else:
            raise ValueError(f"not an ONNX graph: protobuf wire type {wire} at byte {at}")


def _text(data: memoryview, span: tuple[int, int]) -> str:
    return bytes(data[span[0] : span[1]]).decode()


def _packed(data: memoryview, span: tuple[int, int]) -> list[int]:
    out, at = [], span[0]
    while at < span[1]:
        value, at = _varint(data, at)
        out.append(value)
    return out


def _varint(data: memoryview, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7
