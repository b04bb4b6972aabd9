"""Write GGUF v3 files: LoRA adapters (export) and small test/benchmark models.

Metadata values are typed explicitly where GGUF readers are strict about types (llama.cpp rejects a
UINT32 key stored as INT32), so callers wrap numbers with u32()/i32()/f32() or arrays with array().
"""

from __future__ import annotations

import ctypes
import os
import struct
from typing import Any, BinaryIO, Iterable, List, Sequence, Tuple

import torch

from .gguf_reader import (DEFAULT_ALIGNMENT, GGML_BF16, GGML_F16, GGML_F32, GGML_Q8_0, T_ARRAY, T_BOOL,
                          T_FLOAT32, T_INT32, T_STRING, T_UINT32, T_UINT64, _SCALAR_FORMATS)


class Typed:
    """A metadata value with an explicit GGUF type (for arrays: the element type)."""

    def __init__(self, vtype: int, value: Any, is_array: bool = False):
        self.vtype = vtype
        self.value = value
        self.is_array = is_array


def u32(v: int) -> Typed:
    return Typed(T_UINT32, int(v))


def i32(v: int) -> Typed:
    return Typed(T_INT32, int(v))


def u64(v: int) -> Typed:
    return Typed(T_UINT64, int(v))


def f32(v: float) -> Typed:
    return Typed(T_FLOAT32, float(v))


def array(element_type: int, values: Sequence[Any]) -> Typed:
    return Typed(element_type, list(values), is_array=True)


def _typed(value: Any) -> Typed:
    if isinstance(value, Typed):
        return value
    if isinstance(value, bool):
        return Typed(T_BOOL, value)
    if isinstance(value, str):
        return Typed(T_STRING, value)
    if isinstance(value, int):
        return Typed(T_UINT32 if value >= 0 else T_INT32, value)
    if isinstance(value, float):
        return Typed(T_FLOAT32, value)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        return array(T_STRING, value)
    raise TypeError(f"cannot infer a GGUF type for {value!r}; wrap it with u32/i32/f32/array")


def _encode_string(s: str) -> bytes:
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _encode_scalar(vtype: int, v: Any) -> bytes:
    if vtype == T_STRING:
        return _encode_string(v)
    return struct.pack(_SCALAR_FORMATS[vtype], v)


def _encode_kv(key: str, value: Any) -> bytes:
    t = _typed(value)
    out = _encode_string(key)
    if t.is_array:
        out += struct.pack("<IIQ", T_ARRAY, t.vtype, len(t.value))
        if t.vtype in _SCALAR_FORMATS:
            fmt = _SCALAR_FORMATS[t.vtype]
            out += struct.pack("<" + fmt[1] * len(t.value), *t.value)
        else:
            out += b"".join(_encode_scalar(t.vtype, v) for v in t.value)
        return out
    return out + struct.pack("<I", t.vtype) + _encode_scalar(t.vtype, t.value)


def tensor_bytes(t: torch.Tensor) -> bytes:
    """Raw little-endian bytes of a tensor (no numpy needed)."""
    t = t.detach().to("cpu").contiguous()
    if t.numel() == 0:
        return b""
    return ctypes.string_at(t.data_ptr(), t.numel() * t.element_size())


def quantize_q8_0(x: torch.Tensor) -> bytes:
    """ggml's reference Q8_0: per block of 32, d = amax / 127, q = round-half-away(x / d)."""
    blocks = x.detach().to(torch.float32).reshape(-1, 32)
    d = blocks.abs().amax(dim=1, keepdim=True) / 127.0
    inv = torch.where(d > 0, 1.0 / d, torch.zeros_like(d))
    scaled = blocks * inv
    q = (torch.sign(scaled) * torch.floor(scaled.abs() + 0.5)).to(torch.int8)
    d16 = d.to(torch.float16).contiguous().view(torch.uint8).reshape(-1, 2)
    packed = torch.cat([d16, q.contiguous().view(torch.uint8).reshape(-1, 32)], dim=1)
    return tensor_bytes(packed)


class RawTensor:
    """Pre-encoded tensor data (any ggml type) with its torch-order shape."""

    def __init__(self, shape: Sequence[int], data: bytes):
        self.shape = list(shape)
        self.data = data


def _tensor_payload(t: Any, ggml_type: int) -> bytes:
    if isinstance(t, RawTensor):
        return t.data
    if ggml_type == GGML_F32:
        return tensor_bytes(t.to(torch.float32))
    if ggml_type == GGML_F16:
        return tensor_bytes(t.to(torch.float16))
    if ggml_type == GGML_BF16:
        return tensor_bytes(t.to(torch.bfloat16))
    if ggml_type == GGML_Q8_0:
        if t.shape[-1] % 32 != 0:
            raise ValueError(f"Q8_0 needs rows that are a multiple of 32, got {tuple(t.shape)}")
        return quantize_q8_0(t)
    raise ValueError(f"writer does not support ggml type {ggml_type}")


TensorSpec = Tuple[str, Any, int]  # (name, torch tensor or RawTensor in torch shape, ggml type)


def write_gguf(path: str, metadata: Iterable[Tuple[str, Any]], tensors: Sequence[TensorSpec],
               alignment: int = DEFAULT_ALIGNMENT) -> int:
    """Write a GGUF v3 file atomically (temp file + rename); returns its size in bytes."""
    metadata = list(metadata)
    if alignment != DEFAULT_ALIGNMENT:
        metadata.append(("general.alignment", u32(alignment)))
    payloads: List[bytes] = [_tensor_payload(t, ty) for _, t, ty in tensors]

    header = bytearray(b"GGUF")
    header += struct.pack("<IQQ", 3, len(tensors), len(metadata))
    for key, value in metadata:
        header += _encode_kv(key, value)
    offset = 0
    offsets = []
    for (name, t, ty), payload in zip(tensors, payloads):
        ne = list(reversed(t.shape))  # ggml order: innermost dimension first
        header += _encode_string(name)
        header += struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", d) for d in ne)
        header += struct.pack("<IQ", ty, offset)
        offsets.append(offset)
        offset += _pad(len(payload), alignment)

    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        _write_padded(f, bytes(header), alignment)
        for payload in payloads:
            _write_padded(f, payload, alignment)
        size = f.tell()
    os.replace(tmp, path)
    return size


def _pad(n: int, alignment: int) -> int:
    return (n + alignment - 1) // alignment * alignment


def _write_padded(f: BinaryIO, data: bytes, alignment: int) -> None:
    f.write(data)
    f.write(b"\0" * (_pad(len(data), alignment) - len(data)))
