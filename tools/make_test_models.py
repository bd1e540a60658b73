#!/usr/bin/python3
"""Builds the tiny ONNX models the test suite serves (test/fixtures/models).

Run with Debian's interpreter: /usr/bin/python3 tools/make_test_models.py
The outputs are committed (a few hundred bytes each), so tests need no Python.
"""
import os
import sys

import onnx
from onnx import TensorProto, helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "models")
OPSET = [helper.make_opsetid("", 17)]

# OIP datatype -> ONNX element type, for the echo model that exercises every codec path.
ECHO_TYPES = {
    "bool": TensorProto.BOOL,
    "uint8": TensorProto.UINT8,
    "int8": TensorProto.INT8,
    "int32": TensorProto.INT32,
    "int64": TensorProto.INT64,
    "fp16": TensorProto.FLOAT16,
    "fp32": TensorProto.FLOAT,
    "fp64": TensorProto.DOUBLE,
    "bytes": TensorProto.STRING,
}


def save(name, graph, config):
    model = helper.make_model(graph, opset_imports=OPSET, producer_name="switchyard-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    os.makedirs(os.path.join(ROOT, name, "1"), exist_ok=True)
    onnx.save(model, os.path.join(ROOT, name, "1", "model.onnx"))
    with open(os.path.join(ROOT, name, "config.yaml"), "w") as f:
        f.write(config)


def sum_graph(version):
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["batch", 4])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, ["batch", 4])
    s = helper.make_tensor_value_info("sum", TensorProto.FLOAT, ["batch", 4])
    d = helper.make_tensor_value_info("diff", TensorProto.FLOAT, ["batch", 4])
    # Version 2 answers diff = b - a, so a test can tell which version served it.
    diff_inputs = ["a", "b"] if version == 1 else ["b", "a"]
    nodes = [helper.make_node("Add", ["a", "b"], ["sum"]), helper.make_node("Sub", diff_inputs, ["diff"])]
    return helper.make_graph(nodes, "sum", [a, b], [s, d])


def sum_model():
    save(
        "sum",
        sum_graph(1),
        """# a + b and a - b over rows of 4 floats: the smallest batching model.
platform: onnxruntime_onnx
max_batch_size: 8
dynamic_batching:
  max_queue_delay_ms: 5
version_policy:
  all: {}
queue_policy:
  default_timeout_ms: 5000
input:
  - name: a
    datatype: FP32
    dims: [4]
  - name: b
    datatype: FP32
    dims: [4]
output:
  - name: sum
    datatype: FP32
    dims: [4]
  - name: diff
    datatype: FP32
    dims: [4]
""",
    )


def echo_model():
    inputs, outputs, nodes = [], [], []
    for suffix, elem in ECHO_TYPES.items():
        inputs.append(helper.make_tensor_value_info(f"x_{suffix}", elem, ["batch", 2]))
        outputs.append(helper.make_tensor_value_info(f"y_{suffix}", elem, ["batch", 2]))
        nodes.append(helper.make_node("Identity", [f"x_{suffix}"], [f"y_{suffix}"]))
    # No declarations in the config: the server reads the signature from the model itself.
    save(
        "echo",
        helper.make_graph(nodes, "echo", inputs, outputs),
        """# Identity for every datatype the codec handles; the signature comes from the ONNX file.
platform: onnxruntime_onnx
max_batch_size: 4
dynamic_batching:
  max_queue_delay_ms: 1
""",
    )


def nobatch_model():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])
    two = helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])
    nodes = [helper.make_node("Mul", ["x", "two"], ["y"])]
    save(
        "nobatch",
        helper.make_graph(nodes, "nobatch", [x], [y], initializer=[two]),
        """{
  "platform": "onnxruntime_onnx",
  "max_batch_size": 0,
  "input": [{ "name": "x", "datatype": "FP32", "dims": [3] }],
  "output": [{ "name": "y", "datatype": "FP32", "dims": [3] }]
}
""",
    )
    os.rename(os.path.join(ROOT, "nobatch", "config.yaml"), os.path.join(ROOT, "nobatch", "config.json"))


def main():
    sum_model()
    echo_model()
    nobatch_model()
    v2 = helper.make_model(sum_graph(2), opset_imports=OPSET, producer_name="switchyard-tests")
    v2.ir_version = 8
    os.makedirs(os.path.join(ROOT, "sum", "2"), exist_ok=True)
    onnx.save(v2, os.path.join(ROOT, "sum", "2", "model.onnx"))
    print("wrote test models under", os.path.relpath(ROOT), file=sys.stderr)


if __name__ == "__main__":
    main()
