#!/usr/bin/env python3
"""Make node-llama-cpp's prebuilt libggml-cuda.so run on a GPU whose driver is older than its PTX.

Why: @node-llama-cpp/linux-x64-cuda 3.22.1 ships machine code (SASS) for sm_86, sm_89, sm_120 and
sm_121 only, plus PTX for compute_75/80/90 written by CUDA 13.1 (PTX ISA 9.1). On an H100 (sm_90)
the driver must JIT-compile that compute_90 PTX, and a CUDA 13.0 driver (r580) refuses ISA 9.1: the
first kernel launch aborts the process with "ggml-cuda.cu:108: CUDA error". A driver for CUDA 13.1
or newer needs none of this.

What: keeps, in every fat binary of the library's .nv_fatbin section, only the PTX entry of one
virtual architecture (default compute_90), rewrites its `.version` line (default 9.1 -> 9.0) and
recompresses it (zstd, as nvcc stores it). Each fat binary stays where it was, so no relocation
changes; the space freed by the dropped entries is zeroed (the output also compresses much better:
~21 MB with xz instead of ~125 MB). The patched PTX assembled with ptxas 13.0 for sm_90, and the
GPU tests passed with it on an H100 with driver 580.159.04 (BENCHMARKS.md, "GPU").

Usage (needs the zstd command):
  python3 test/gpu/cuda-ptx-for-driver.py \
      node_modules/@node-llama-cpp/linux-x64-cuda/bins/linux-x64-cuda/libggml-cuda.so out.so \
      [--arch 90] [--from-isa 9.1] [--to-isa 9.0]
then put out.so in place of the original (keep a copy). The first run JIT-compiles the kernels it
uses (~40 s for the GPU tests); set CUDA_CACHE_MAXSIZE=4294967296 so the driver's cache keeps them.
"""
import argparse
import struct
import subprocess

FATBIN_MAGIC = 0xBA55ED50
KIND_PTX = 1


def sections(data: bytes) -> dict[str, tuple[int, int]]:
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    headers = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab = headers[shstrndx][4]
    name = lambda n: data[strtab + n : data.index(b"\0", strtab + n)].decode()
    return {name(h[0]): (h[4], h[5]) for h in headers}


def zstd(args: list[str], payload: bytes) -> bytes:
    return subprocess.run(["zstd", *args], input=payload, capture_output=True, check=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src")
    parser.add_argument("dst")
    parser.add_argument("--arch", type=int, default=90, help="virtual architecture whose PTX is kept (default 90)")
    parser.add_argument("--from-isa", default="9.1")
    parser.add_argument("--to-isa", default="9.0")
    args = parser.parse_args()
    from_line, to_line = f".version {args.from_isa}\n".encode(), f".version {args.to_isa}\n".encode()
    to_major, to_minor = (int(x) for x in args.to_isa.split("."))

    data = bytearray(open(args.src, "rb").read())
    start, size = sections(data)[".nv_fatbin"]
    p, end, blobs = start, start + size, 0
    while p < end:
        magic, _version, header_size, fat_size = struct.unpack_from("<IHHQ", data, p)
        if magic != FATBIN_MAGIC:
            p += 8
            continue
        blob_end = p + header_size + fat_size
        q, keep = p + header_size, None
        while q < blob_end:
            kind, _, entry_header, payload = struct.unpack_from("<HHIQ", data, q)
            arch = struct.unpack_from("<I", data, q + 28)[0]
            if kind == KIND_PTX and arch == args.arch:
                keep = (q, entry_header, payload)
            q += entry_header + payload
        if keep is None:
            raise SystemExit(f"fat binary at {p:#x} has no compute_{args.arch} PTX")
        q, entry_header, _ = keep
        header = bytearray(data[q : q + entry_header])
        compressed = struct.unpack_from("<I", header, 16)[0]
        ptx = zstd(["-d", "-c"], bytes(data[q + entry_header : q + entry_header + compressed]))
        if from_line not in ptx[:4096]:
            raise SystemExit(f"fat binary at {p:#x}: PTX does not start with {from_line!r}")
        ptx = ptx.replace(from_line, to_line, 1)  # same length: the uncompressed size stays right
        packed = zstd(["-19", "-c", "--no-check"], ptx)
        padded = packed + bytes(-len(packed) % 8)
        struct.pack_into("<Q", header, 8, len(padded))
        struct.pack_into("<I", header, 16, len(packed))
        struct.pack_into("<HH", header, 24, to_minor, to_major)
        body = bytes(header) + padded
        if len(body) > fat_size:
            raise SystemExit(f"fat binary at {p:#x}: the patched entry does not fit")
        data[p + header_size : blob_end] = body + bytes(fat_size - len(body))
        struct.pack_into("<Q", data, p + 8, len(body))
        blobs += 1
        p = blob_end
    open(args.dst, "wb").write(data)
    print(f"{blobs} fat binaries: kept compute_{args.arch} PTX, ISA {args.from_isa} -> {args.to_isa}")


if __name__ == "__main__":
    main()
