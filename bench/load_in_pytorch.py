#!/usr/bin/python3
"""Loads a murmur checkpoint into the PyTorch twin of its model and evaluates
it on the Fashion-MNIST test set: shows that murmur's safetensors files carry
PyTorch state_dict names, shapes and layouts.

Usage: bench/load_in_pytorch.py CHECKPOINT.safetensors [--data-dir DIR]
"""

import argparse
import gzip
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_models  # noqa: E402

DTYPES = {"F32": np.float32, "I64": np.int64, "BF16": None}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        arr = np.frombuffer(data[base + begin:base + end], dtype=DTYPES[t["dtype"]]).reshape(t["shape"])
        tensors[name] = torch.from_numpy(arr.copy())
    return tensors, meta


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 0x803:
        rows, cols = struct.unpack(">II", data[8:16])
        return np.frombuffer(data[16:], dtype=np.uint8).reshape(count, 1, rows, cols)
    return np.frombuffer(data[8:], dtype=np.uint8)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint")
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    args = p.parse_args()
    tensors, meta = read_safetensors(args.checkpoint)
    shape = tuple(int(v) for v in meta["murmur.input"].split("x"))
    model = torch_models.build(meta["murmur.model"], shape, int(meta["murmur.classes"]), meta.get("murmur.norm", "batchnorm"))
    state = {k: v for k, v in tensors.items() if not k.startswith("optimizer.")}
    model.load_state_dict(state, strict=True)
    model.eval()

    train = read_idx(os.path.join(args.data_dir, "train-images-idx3-ubyte.gz")).astype(np.float64) / 255
    mean, std = train.mean(), train.std()
    images = read_idx(os.path.join(args.data_dir, "t10k-images-idx3-ubyte.gz")).astype(np.float32) / 255
    labels = torch.from_numpy(read_idx(os.path.join(args.data_dir, "t10k-labels-idx1-ubyte.gz")).astype(np.int64))
    x = torch.from_numpy((images - mean) / std).float()
    with torch.no_grad():
        logits = torch.cat([model(x[i:i + 1000]) for i in range(0, len(x), 1000)])
    accuracy = (logits.argmax(1) == labels).float().mean().item()
    print(f"{meta['murmur.model']} after epoch {meta['murmur.epoch']}: loaded {len(state)} tensors strictly "
          f"into PyTorch; test accuracy in PyTorch {accuracy:.4f}")


if __name__ == "__main__":
    main()
