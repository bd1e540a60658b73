#!/usr/bin/python3
"""Exports randomly initialised torchvision ResNets to ONNX for the benchmarks.

    /usr/bin/python3 tools/export_resnet.py [DIR] [--only resnet50] [--bench]

Writes a Switchyard model repository under DIR (default .cache/models):
  DIR/resnet50/1/model.onnx, DIR/resnet50/config.yaml, DIR/resnet50/labels.json
  DIR/resnet152/...

The weights are random (seeded), because pretrained ones cannot be downloaded
here: the models compute exactly what a trained ResNet computes, so latency and
throughput are realistic, but their answers mean nothing. They are rebuilt on
demand and never committed (.cache/ is git-ignored; ResNet-152 is ~240 MB).
"""
import argparse
import json
import os
import subprocess
import sys
import time

import torch
import torchvision
from torch import nn

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
CHECKER = os.path.join(ROOT, "tools", "fashion", "check_onnx.mjs")
MODELS = ("resnet50", "resnet152")
SEED = 1234
OPSET = 17

CONFIG = """# torchvision {name} with RANDOM weights, exported by tools/export_resnet.py (benchmarks only)
platform: onnxruntime_onnx
# 4, not 8: on 2-vCPU VMs a batch of 8 ran ResNet-50 at 12-31% fewer items/s than batches of 1 to 4 (three runs)
max_batch_size: 4
dynamic_batching:
  max_queue_delay_ms: 5
instance:
  device: cpu
  # Two one-thread sessions, each running a batch of its own: on a 2-vCPU VM they ran ResNet-50
  # at 44-48 items/s against 43 for one two-thread session, and hold up better beside other work.
  count: 2
  intra_op_threads: 0  # the cores shared among the sessions: one each on two cores
  inference_thread: true
queue_policy:
  max_queue_size: 1000
  default_timeout_ms: 30000
input:
  - name: input
    datatype: FP32
    dims: [3, 224, 224]
output:
  - name: probabilities
    datatype: FP32
    dims: [1000]
handler:
  kind: image-classification
  input: input
  output: probabilities
  labels: labels.json
  top_k: 5
  image:
    width: 224
    height: 224
    channels: 3
    resize: cover
    layout: NCHW
    scale: 0.00392156862745098
    mean: [0.485, 0.456, 0.406]
    std: [0.229, 0.224, 0.225]
"""


class WithSoftmax(nn.Module):
    """Exported wrapper: clients get probabilities, not logits."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return torch.softmax(self.net(x), dim=1)


def build(name):
    # Seed per model, so each file is reproducible whether or not --only is used.
    torch.manual_seed(SEED)
    net = getattr(torchvision.models, name)(weights=None)  # weights=None: no download
    return WithSoftmax(net).eval()


def export(name, out_dir):
    model_dir = os.path.join(out_dir, name)
    path = os.path.join(model_dir, "1", "model.onnx")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    start = time.time()
    torch.onnx.export(
        build(name), torch.zeros(1, 3, 224, 224), path, opset_version=OPSET,
        input_names=["input"], output_names=["probabilities"],
        dynamic_axes={"input": {0: "batch"}, "probabilities": {0: "batch"}},
        do_constant_folding=True,  # folds BatchNorm into the convs
    )
    seconds = time.time() - start
    with open(os.path.join(model_dir, "config.yaml"), "w") as f:
        f.write(CONFIG.format(name=name))
    with open(os.path.join(model_dir, "labels.json"), "w") as f:
        json.dump([f"class_{i:03d}" for i in range(1000)], f)
        f.write("\n")
    size_mb = os.path.getsize(path) / 1e6
    print(f"{name}: {path} ({size_mb:.1f} MB) exported in {seconds:.1f}s", flush=True)
    return path


def bench(path):
    """Loads the model in onnxruntime-node and times batches of 1 and 4."""
    result = subprocess.run(["node", CHECKER, "bench", path, "3,224,224", "1,4", "5"],
                            cwd=ROOT, check=True, capture_output=True, text=True)
    print(result.stdout.strip(), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir", nargs="?", default=os.path.join(ROOT, ".cache", "models"),
                        help="model repository to write into (default .cache/models)")
    parser.add_argument("--only", choices=MODELS, action="append",
                        help="export just this model (repeatable)")
    parser.add_argument("--bench", action="store_true",
                        help="then load each model in onnxruntime-node and time it")
    args = parser.parse_args()
    torch.set_num_threads(2)
    for name in args.only or MODELS:
        path = export(name, os.path.abspath(args.dir))
        if args.bench:
            bench(path)


if __name__ == "__main__":
    sys.exit(main())
