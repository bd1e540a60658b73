#!/usr/bin/env bash
# Rebuilds the committed models from scratch: the Fashion-MNIST CNN (with its
# test fixtures and metrics) and the FAQ model. Needs Debian's /usr/bin/python3
# (torch, torchvision, onnx) and node with onnxruntime-node installed (npm ci).
# Fashion training is ~40 min of CPU time on 2 threads: roughly 10-20 min on 2
# idle cores, far longer on a shared busy machine (108 min at load ~12). The
# FAQ model adds its own. The ResNet benchmark models are not built here:
# tools/export_resnet.py makes them on demand into .cache/models.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=/usr/bin/python3
"$PY" tools/train_fashion.py
"$PY" tools/train_faq.py
