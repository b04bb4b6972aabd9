"""Read GGUF metadata and tensors (F32, F16, BF16, Q8_0) into torch tensors.

Plain file reads (no mmap): every tensor is copied into memory the learner owns, so nothing points into a
mapping that could be closed or truncated underneath a running training job.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO, Dict, List, Optional

import torch

from .errors import LearnerError, unsupported

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32

# Metadata value types (gguf.h).
T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY, T_UINT64, \
    T_INT64, T_FLOAT64 = range(13)

_SCALAR_FORMATS = {
    T_UINT8: "<B", T_INT8: "<b", T_UINT16: "<H", T_INT16: "<h", T_UINT32: "<I", T_INT32: "<i",
    T_FLOAT32: "<f", T_BOOL: "<?", T_UINT64: "<Q", T_INT64: "<q", T_FLOAT64: "<d",
}

# ggml tensor types the learner can read, with (block size in elements, bytes per block).
GGML_F32, GGML_F16, GGML_Q8_0, GGML_BF16 = 0, 1, 8, 30
SUPPORTED_TYPES = {GGML_F32: (1, 4), GGML_F16: (1, 2), GGML_Q8_0: (32, 34), GGML_BF16: (1, 2)}

# Names only, so an unsupported file gets an error that says what it contains.
GGML_TYPE_NAMES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1", 10: "Q2_K",
    11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS",
    19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32",
    27: "I64", 28: "F64", 29: "IQ1_M", 30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4",
}


def ggml_type_name(type_id: int) -> str:
    return GGML_TYPE_NAMES.get(type_id, f"type#{type_id}")


@dataclass
class TensorInfo:
    name: str
    ne: List[int]  # ggml order: ne[0] is the innermost (contiguous) dimension
    ggml_type: int
    offset: int  # absolute file offset of the data

    @property
    def shape(self) -> List[int]:
        """torch order (outermost first): the reverse of ggml's ne."""
        return list(reversed(self.ne))

    @property
    def n_elements(self) -> int:
        n = 1
        for d in self.ne:
            n *= d
        return n

    @property
    def type_name(self) -> str:
        return ggml_type_name(self.ggml_type)

    def n_bytes(self) -> int:
        block, block_bytes = SUPPORTED_TYPES[self.ggml_type]
        return self.n_elements // block * block_bytes


class _Reader:
    def __init__(self, f: BinaryIO, path: str):
        self.f = f
        self.path = path

    def read(self, n: int) -> bytes:
        data = self.f.read(n)
        if len(data) != n:
            raise LearnerError("io_error", f"{self.path}: truncated GGUF file (wanted {n} bytes at offset "
                                           f"{self.f.tell() - len(data)})")
        return data

    def scalar(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        n = self.scalar("<Q")
        return self.read(n).decode("utf-8", errors="replace")

    def value(self, vtype: int) -> Any:
        if vtype in _SCALAR_FORMATS:
            return self.scalar(_SCALAR_FORMATS[vtype])
        if vtype == T_STRING:
            return self.string()
        if vtype == T_ARRAY:
            etype = self.scalar("<I")
            count = self.scalar("<Q")
            if etype in _SCALAR_FORMATS:
                fmt = _SCALAR_FORMATS[etype]
                size = struct.calcsize(fmt)
                return list(struct.unpack("<" + fmt[1] * count, self.read(size * count)))
            return [self.value(etype) for _ in range(count)]
        raise LearnerError("io_error", f"{self.path}: unknown GGUF metadata value type {vtype}")


class GGUFFile:
    """Parsed header of a GGUF file; tensors are read on demand with load()."""

    def __init__(self, path: str):
        self.path = path
        self.metadata: Dict[str, Any] = {}
        self.tensors: Dict[str, TensorInfo] = {}
        try:
            self.file_size = os.path.getsize(path)
            with open(path, "rb") as f:
                self._parse(_Reader(f, path))
        except OSError as e:
            raise LearnerError("io_error", f"cannot read GGUF file {path}: {e.strerror or e}") from e

    def _parse(self, r: _Reader) -> None:
        if r.read(4) != GGUF_MAGIC:
            raise LearnerError("io_error", f"{self.path}: not a GGUF file (bad magic)")
        version = r.scalar("<I")
        if version not in (2, 3):
            raise unsupported(f"{self.path}: GGUF version {version} is not supported (2 or 3 are)")
        n_tensors = r.scalar("<Q")
        n_kv = r.scalar("<Q")
        for _ in range(n_kv):
            key = r.string()
            self.metadata[key] = r.value(r.scalar("<I"))
        infos = []
        for _ in range(n_tensors):
            name = r.string()
            n_dims = r.scalar("<I")
            ne = [r.scalar("<Q") for _ in range(n_dims)]
            ggml_type = r.scalar("<I")
            rel_offset = r.scalar("<Q")
            infos.append((name, ne, ggml_type, rel_offset))
        alignment = int(self.metadata.get("general.alignment", DEFAULT_ALIGNMENT))
        header_end = r.f.tell()
        data_start = (header_end + alignment - 1) // alignment * alignment
        self.fingerprint = _fingerprint(r.f, header_end, self.file_size)
        for name, ne, ggml_type, rel_offset in infos:
            self.tensors[name] = TensorInfo(name, ne, ggml_type, data_start + rel_offset)

    def get(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(key, default)

    def has(self, name: str) -> bool:
        return name in self.tensors

    def load(self, name: str, dtype: torch.dtype = torch.float32, device: Optional[torch.device] = None) -> torch.Tensor:
        """The tensor `name` dequantised to `dtype`, in torch shape (reverse of ggml's ne)."""
        info = self.tensors.get(name)
        if info is None:
            raise unsupported(f"{self.path}: missing tensor {name}")
        if info.ggml_type not in SUPPORTED_TYPES:
            raise unsupported(f"{self.path}: tensor {name} has type {info.type_name}; the learner reads "
                              f"F32, F16, BF16 and Q8_0 only (re-quantise the model to Q8_0 or F16)")
        block, _ = SUPPORTED_TYPES[info.ggml_type]
        if info.ne and info.ne[0] % block != 0:
            raise LearnerError("io_error", f"{self.path}: tensor {name} row length {info.ne[0]} is not a "
                                           f"multiple of the {info.type_name} block size {block}")
        n_bytes = info.n_bytes()
        if info.offset + n_bytes > self.file_size:
            raise LearnerError("io_error", f"{self.path}: truncated file: tensor {name} ends at byte "
                                           f"{info.offset + n_bytes} but the file has {self.file_size}")
        raw = bytearray(n_bytes)
        with open(self.path, "rb") as f:
            f.seek(info.offset)
            if f.readinto(raw) != n_bytes:
                raise LearnerError("io_error", f"{self.path}: short read for tensor {name}")
        t = _decode(raw, info)
        # A file of the right size with garbage in a tensor loads, generates garbage and trains on NaN:
        # refuse it here, naming the tensor, before anything runs on it.
        if not bool(torch.isfinite(t).all()):
            raise LearnerError("non_finite", f"{self.path}: tensor {name} holds NaN or infinite values: the model file is "
                                             f"corrupt (download or build it again)")
        t = t.reshape(info.shape) if info.ne else t.reshape(())
        if device is not None and device.type != "cpu":
            t = t.to(device)
        return t.to(dtype)


def _fingerprint(f: BinaryIO, header_end: int, file_size: int, samples: int = 16, chunk: int = 1 << 16) -> str:
    """Identifies a model cheaply even for multi-GB files: the header (metadata + tensor table) plus evenly
    spaced samples of the weights (two files differing only in weights have the same header)."""
    digest = hashlib.sha256(str(file_size).encode())
    f.seek(0)
    if file_size <= header_end + samples * chunk:
        digest.update(f.read())
        return digest.hexdigest()
    digest.update(f.read(header_end))
    span = file_size - header_end - chunk
    for i in range(samples):
        f.seek(header_end + span * i // (samples - 1))
        digest.update(f.read(chunk))
    return digest.hexdigest()


def _decode(raw: bytearray, info: TensorInfo) -> torch.Tensor:
    if info.n_elements == 0:
        return torch.zeros(0)
    if info.ggml_type == GGML_F32:
        return torch.frombuffer(raw, dtype=torch.float32)
    if info.ggml_type == GGML_F16:
        return torch.frombuffer(raw, dtype=torch.float16)
    if info.ggml_type == GGML_BF16:
        return torch.frombuffer(raw, dtype=torch.bfloat16)
    if info.ggml_type == GGML_Q8_0:
        return dequantize_q8_0(torch.frombuffer(raw, dtype=torch.uint8))
    raise unsupported(f"tensor type {info.type_name}")


def dequantize_q8_0(blocks: torch.Tensor) -> torch.Tensor:
    """Q8_0: blocks of 32 values, each an f16 scale d followed by 32 int8 quants; x = d * q."""
    b = blocks.reshape(-1, 34)
    scale = b[:, :2].contiguous().view(torch.float16).to(torch.float32)  # [n_blocks, 1]
    quants = b[:, 2:].contiguous().view(torch.int8).to(torch.float32)  # [n_blocks, 32]
    return (quants * scale).reshape(-1)
