#!/usr/bin/python3
"""Trains the Fashion-MNIST CNN that Switchyard serves as models/fashion.

    /usr/bin/python3 tools/train_fashion.py            # train, export, verify, fixtures
    /usr/bin/python3 tools/train_fashion.py --fixtures-only   # redo fixtures from the ONNX

Run with Debian's interpreter (torch, torchvision, onnx, numpy, PIL). Writes:
  models/fashion/1/model.onnx       input [N,1,28,28] FP32 -> probabilities [N,10]
  tools/fashion/metrics.json        test accuracy, per-class accuracy, ORT-vs-torch diff
  test/fixtures/fashion/*.png, expected.json   20 test images and ORT's answers

ONNX Runtime checks go through Node (tools/fashion/check_onnx.mjs), because the
server runs onnxruntime-node and Python's onnxruntime is not installed here.
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from torch import nn

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DATA_DIR = "/usr/share/datasets/fashion-mnist"
MODEL_PATH = os.path.join(ROOT, "models", "fashion", "1", "model.onnx")
METRICS_PATH = os.path.join(ROOT, "tools", "fashion", "metrics.json")
FIXTURE_DIR = os.path.join(ROOT, "test", "fixtures", "fashion")
CHECKER = os.path.join(ROOT, "tools", "fashion", "check_onnx.mjs")

# The normalisation models/fashion/config.yaml declares; the served handler must match it.
MEAN, STD = 0.2860, 0.3530
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
SEED = 20240611
OPSET = 17


def read_idx(name):
    """Reads one gzipped IDX file (the MNIST container format) into a uint8 array."""
    with gzip.open(os.path.join(DATA_DIR, name), "rb") as f:
        raw = f.read()
    ndim = raw[3]  # magic = 0x0000 <dtype=0x08 uint8> <ndim>
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_split(prefix):
    images = read_idx(f"{prefix}-images-idx3-ubyte.gz")
    labels = read_idx(f"{prefix}-labels-idx1-ubyte.gz").astype(np.int64)
    return images, labels


def normalise(images_u8):
    """uint8 [N,28,28] -> float32 [N,1,28,28], exactly as the server preprocesses."""
    x = images_u8.astype(np.float32) / np.float32(255.0)
    return ((x - np.float32(MEAN)) / np.float32(STD))[:, None, :, :]


def conv_block(c_in, c_out):
    # Pooling straight after the conv runs BatchNorm and ReLU on a quarter of the
    # pixels: on 2 CPU cores those memory-bound ops, not the convs, dominate a step.
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),  # BN supplies the bias
        nn.MaxPool2d(2),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class FashionCNN(nn.Module):
    """Three conv blocks (28 -> 14 -> 7 -> 3) and a small head: ~0.16M parameters, 0.7 MB as ONNX."""

    def __init__(self, width=24):
        super().__init__()
        c1, c2, c3 = width, 2 * width, 4 * width
        self.features = nn.Sequential(conv_block(1, c1), conv_block(c1, c2), conv_block(c2, c3))
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(0.3),
            nn.Linear(c3 * 3 * 3, 128),
            nn.ReLU(inplace=True),
            nn.Dropout(0.3),
            nn.Linear(128, 10),
        )

    def forward(self, x):
        return self.head(self.features(x))


class WithSoftmax(nn.Module):
    """Exported wrapper: clients get probabilities, not logits."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return torch.softmax(self.net(x), dim=1)


def augment(x, gen):
    """Random horizontal flips and +-2 px shifts: cheap, and worth ~1% on the test set."""
    flip = torch.rand(x.shape[0], generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    dx, dy = (int(v) for v in torch.randint(-2, 3, (2,), generator=gen))
    # One shift per batch keeps this vectorised; background fill is the normalised 0 pixel.
    padded = nn.functional.pad(x, (2, 2, 2, 2), value=-MEAN / STD)
    return padded[:, :, 2 + dy: 30 + dy, 2 + dx: 30 + dx]


def evaluate(net, x, y, batch=1000):
    net.eval()
    preds = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            preds.append(net(x[i:i + batch]).argmax(1))
    preds = torch.cat(preds)
    per_class = {LABELS[c]: float((preds[y == c] == c).float().mean()) for c in range(10)}
    return float((preds == y).float().mean()), per_class


def train(epochs, batch_size):
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    train_x, train_y = load_split("train")
    test_x, test_y = load_split("t10k")
    x, y = torch.from_numpy(normalise(train_x)), torch.from_numpy(train_y)
    tx, ty = torch.from_numpy(normalise(test_x)), torch.from_numpy(test_y)

    net = FashionCNN()
    opt = torch.optim.AdamW(net.parameters(), lr=4e-3, weight_decay=5e-4)
    steps = epochs * ((len(x) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=4e-3, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    for epoch in range(epochs):
        net.train()
        start, total = time.time(), 0.0
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), batch_size):
            idx = order[i:i + batch_size]
            loss = loss_fn(net(augment(x[idx], gen)), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(idx)
        # Only the train loss per epoch: the test set is scored once, at the end.
        print(f"epoch {epoch + 1}/{epochs}: loss {total / len(x):.4f} "
              f"({time.time() - start:.0f}s)", flush=True)
    acc, per_class = evaluate(net, tx, ty)
    return net.eval(), acc, per_class, test_x, test_y


def export(net, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    wrapped = WithSoftmax(net).eval()
    torch.onnx.export(
        wrapped, torch.zeros(1, 1, 28, 28), path, opset_version=OPSET,
        input_names=["input"], output_names=["probabilities"],
        dynamic_axes={"input": {0: "batch"}, "probabilities": {0: "batch"}},
        do_constant_folding=True,  # folds BatchNorm into the convs in eval mode
    )
    import onnx  # imported here: only export needs it
    onnx.checker.check_model(onnx.load(path))
    return wrapped


def ort_run(model_path, x, batches="all,1,7"):
    """Runs float32 x through onnxruntime-node at each batch size; returns {batch: output}."""
    with tempfile.TemporaryDirectory() as tmp:
        in_path = os.path.join(tmp, "in.bin")
        np.ascontiguousarray(x, dtype="<f4").tofile(in_path)
        dims = ",".join(str(d) for d in x.shape)
        subprocess.run(["node", CHECKER, "run", model_path, in_path, dims,
                        os.path.join(tmp, "out"), batches], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        return {b: np.fromfile(os.path.join(tmp, f"out.{b}.bin"), dtype="<f4").reshape(len(x), -1)
                for b in batches.split(",")}


def verify(wrapped, test_x, n=64):
    """Max |ORT - torch| over n test images, whole batch and in chunks of 1 and 7."""
    x = normalise(test_x[:n])
    with torch.no_grad():
        expected = wrapped(torch.from_numpy(x)).numpy()
    diffs = {b: float(np.abs(out - expected).max()) for b, out in ort_run(MODEL_PATH, x).items()}
    worst = max(diffs.values())
    print(f"ORT vs torch max abs diff on {n} images: {diffs}")
    if worst > 1e-4:
        sys.exit(f"ORT output differs from torch by {worst:.2e} (> 1e-4)")
    return diffs


def write_png_gray(path, pixels):
    """8-bit grayscale PNG; PIL when present, else a minimal zlib+struct writer."""
    try:
        from PIL import Image
        Image.fromarray(pixels, mode="L").save(path, optimize=True)
    except ImportError:
        import struct
        import zlib

        def chunk(tag, data):
            body = tag + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
        h, w = pixels.shape
        rows = b"".join(b"\x00" + pixels[r].tobytes() for r in range(h))
        with open(path, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                    + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def export_fixtures(test_x, test_y, per_class=2):
    """The first `per_class` test images of each class, and ORT's probabilities for them."""
    os.makedirs(FIXTURE_DIR, exist_ok=True)
    indices = sorted(int(i) for c in range(10) for i in np.flatnonzero(test_y == c)[:per_class])
    probs = ort_run(MODEL_PATH, normalise(test_x[indices]), batches="all")["all"]
    items = []
    for i, p in zip(indices, probs):
        label = int(test_y[i])
        name = f"{i}-{label}.png"
        write_png_gray(os.path.join(FIXTURE_DIR, name), test_x[i])
        items.append({
            "file": name, "index": i, "label": label, "labelName": LABELS[label],
            "predicted": int(p.argmax()), "probabilities": [float(v) for v in p],
        })
    doc = {
        "source": "Fashion-MNIST test set (t10k), pixels as-is: light garment on dark background",
        "model": "models/fashion/1/model.onnx",
        "preprocessing": {"scale": 1 / 255, "mean": MEAN, "std": STD, "invert": False},
        "labels": LABELS,
        "items": items,
    }
    with open(os.path.join(FIXTURE_DIR, "expected.json"), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    right = sum(it["predicted"] == it["label"] for it in items)
    print(f"wrote {len(items)} fixtures to {os.path.relpath(FIXTURE_DIR, ROOT)} ({right} predicted right)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--fixtures-only", action="store_true",
                        help="skip training; regenerate fixtures from the existing ONNX model")
    args = parser.parse_args()
    torch.set_num_threads(2)  # the build machines have 2 cores

    if args.fixtures_only:
        test_x, test_y = load_split("t10k")
        export_fixtures(test_x, test_y)
        return

    start = time.time()
    net, acc, per_class, test_x, test_y = train(args.epochs, args.batch_size)
    train_seconds = time.time() - start
    wrapped = export(net, MODEL_PATH)
    diffs = verify(wrapped, test_x)
    size = os.path.getsize(MODEL_PATH)
    metrics = {
        "test_accuracy": round(acc, 4),
        "per_class_accuracy": {k: round(v, 4) for k, v in per_class.items()},
        "test_images": int(len(test_y)),
        "epochs": args.epochs, "seed": SEED, "opset": OPSET,
        "train_seconds": round(train_seconds, 1),
        "onnx_bytes": size,
        "ort_vs_torch_max_abs_diff": diffs,
        "torch": torch.__version__,
    }
    os.makedirs(os.path.dirname(METRICS_PATH), exist_ok=True)
    with open(METRICS_PATH, "w") as f:
        json.dump(metrics, f, indent=2)
        f.write("\n")
    print(json.dumps(metrics, indent=2))
    export_fixtures(test_x, test_y)
    if acc < 0.90:
        sys.exit(f"test accuracy {acc:.4f} is below the 0.90 floor")


if __name__ == "__main__":
    main()
