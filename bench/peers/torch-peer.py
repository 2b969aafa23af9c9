#!/usr/bin/python3
# The PyTorch peer of `bun run bench` (bench/peers/torch.ts starts it): a long-lived child speaking JSON lines, one
# request per stdin line, one answer per stdout line. It builds torch modules from the very ONNX file
# onnxruntime-node runs (hashguard's exportOnnx, parsed with python3-onnx's numpy_helper), so the three runtimes
# compute with the same weights, and times workloads in-process: the answer carries per-iteration wall times only.
# Requests: hello | load {name, onnx} | data {name, x, y, shape} | forward {model, x, shape} | bench {...} | quit.
import copy
import ctypes
import json
import os
import platform
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

torch.set_num_interop_threads(1)  # one op at a time, as hashguard and onnxruntime (sequential) run
MODELS: dict = {}
DATA: dict = {}


def blas_library() -> str:
    """The BLAS shared library this process mapped (Debian's alternatives pick it: reference BLAS or OpenBLAS)."""
    with open('/proc/self/maps') as f:
        libs = {line.split()[-1] for line in f if 'blas' in line.split()[-1].lower()}
    return ', '.join(sorted(os.path.realpath(p) for p in libs)) or 'none mapped'


def set_threads(n: int) -> None:
    torch.set_num_threads(n)
    # NOTE: a pthread OpenBLAS keeps its own thread count; torch.set_num_threads does not reach it.
    for path in blas_library().split(', '):
        if 'openblas' in path:
            fn = getattr(ctypes.CDLL(path), 'openblas_set_num_threads', None)
            if fn:
                fn(n)


class Elementwise(nn.Module):
    """x·c or x+c with a constant c (exportOnnx's affine layer), or a clamp (its clip layer)."""

    def __init__(self, op: str, a=None, b=None):
        super().__init__()
        self.op, self.a, self.b = op, a, b

    def forward(self, x):
        if self.op == 'Mul':
            return x * self.a
        if self.op == 'Add':
            return x + self.a
        return torch.clamp(x, self.a, self.b)


def build(path: str) -> nn.Sequential:
    """The ONNX chain (Conv, Gemm, Relu, MaxPool, ... one input each) as an nn.Sequential holding its initializers."""
    graph = onnx.load(path).graph
    inits = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in graph.initializer}
    layers, cur = [], graph.input[0].name
    for node in graph.node:
        a = {x.name: onnx.helper.get_attribute_value(x) for x in node.attribute}
        op, ins = node.op_type, list(node.input)
        if ins[0] != cur:
            raise ValueError(f'{node.name}: not a chain (input {ins[0]}, expected {cur})')
        if op == 'Conv':
            w, b = inits[ins[1]], inits[ins[2]]
            p = list(a.get('pads', [0, 0, 0, 0]))
            if p[:2] != p[2:] or a.get('group', 1) != 1 or list(a.get('dilations', [1, 1])) != [1, 1]:
                raise ValueError(f'{node.name}: only symmetric pads, group 1, dilation 1')
            m = nn.Conv2d(w.shape[1], w.shape[0], tuple(w.shape[2:]), tuple(a.get('strides', [1, 1])), tuple(p[:2]))
            m.weight.data.copy_(w)
            m.bias.data.copy_(b)
        elif op == 'Gemm':
            if a.get('transB') != 1 or a.get('transA', 0) != 0 or a.get('alpha', 1.0) != 1 or a.get('beta', 1.0) != 1:
                raise ValueError(f'{node.name}: only Gemm(x, W^T) + b')
            w, b = inits[ins[1]], inits[ins[2]]
            m = nn.Linear(w.shape[1], w.shape[0])
            m.weight.data.copy_(w)
            m.bias.data.copy_(b)
        elif op in ('MaxPool', 'AveragePool'):
            if any(a.get('pads', [0])) or a.get('ceil_mode', 0):
                raise ValueError(f'{node.name}: only unpadded floor-mode pooling')
            pool = nn.MaxPool2d if op == 'MaxPool' else nn.AvgPool2d
            m = pool(tuple(a['kernel_shape']), tuple(a.get('strides', a['kernel_shape'])))
        elif op == 'Flatten':
            if a.get('axis', 1) != 1:
                raise ValueError(f'{node.name}: only Flatten(axis=1)')
            m = nn.Flatten()
        elif op in ('Relu', 'Sigmoid', 'Tanh'):
            m = {'Relu': nn.ReLU, 'Sigmoid': nn.Sigmoid, 'Tanh': nn.Tanh}[op]()
        elif op == 'LeakyRelu':
            m = nn.LeakyReLU(a.get('alpha', 0.01))
        elif op in ('Mul', 'Add'):
            m = Elementwise(op, inits[ins[1]])
        elif op == 'Clip':
            lo, hi = [inits[n].item() if n else None for n in (ins + ['', ''])[1:3]]
            m = Elementwise('Clip', lo, hi)
        else:
            raise ValueError(f'{node.name}: op {op} has no torch module here')
        layers.append(m)
        cur = node.output[0]
    if cur != graph.output[0].name:
        raise ValueError(f'the chain ends in {cur}, not the graph output {graph.output[0].name}')
    return nn.Sequential(*layers)


def pgd(model, x0, y, eps, alpha, steps, random_start):
    """L∞ PGD on the summed cross-entropy: sign steps of alpha, projected to x0 ± eps and [0, 1]; params frozen."""
    x = (x0 + torch.empty_like(x0).uniform_(-eps, eps)).clamp_(0, 1) if random_start else x0.clone()
    for _ in range(steps):
        x.requires_grad_(True)
        loss = F.cross_entropy(model(x), y, reduction='sum')
        (g,) = torch.autograd.grad(loss, x)
        x = torch.min(torch.max(x.detach() + alpha * g.sign(), x0 - eps), x0 + eps).clamp_(0, 1)
    return x.detach()


def requires_grad(model, flag):
    for p in model.parameters():
        p.requires_grad_(flag)


def bench(r):
    """Times warmup + iters iterations of a workload; returns the timed iterations' wall seconds."""
    set_threads(int(r['threads']))
    torch.manual_seed(int(r.get('seed', 1)))
    kind, batch = r['workload'], int(r['batch'])
    x_all, y_all = DATA[r['data']]
    n = x_all.shape[0]
    # A fresh copy per request: training changes weights, and every round starts from the loaded ones.
    model = copy.deepcopy(MODELS[r['model']])
    order = torch.randperm(n, generator=torch.Generator().manual_seed(int(r.get('seed', 1))))

    def rows(i):  # batch i of a seeded shuffle, wrapping around: a gather per step, as a data loader does
        idx = order[torch.arange(i * batch, (i + 1) * batch) % n]
        return x_all[idx], y_all[idx]

    if kind == 'infer':
        x = x_all[:batch].contiguous()
        requires_grad(model, False)

        def step(i):
            with torch.inference_mode():
                model(x)

    elif kind == 'train':
        opt = torch.optim.Adam(model.parameters(), lr=float(r.get('lr', 1e-3)), betas=(0.9, 0.999), eps=1e-8)

        def step(i):
            x, y = rows(i)
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            opt.step()

    elif kind == 'pgd':
        x0, y0 = x_all[:batch].contiguous(), y_all[:batch].contiguous()
        requires_grad(model, False)

        def step(i):
            pgd(model, x0, y0, r['eps'], r['alpha'], int(r['steps']), bool(r.get('randomStart', False)))

    elif kind == 'adv-train':
        # Madry PGD-AT as hashguard's --adversarial pgd trains: uniform start, sign steps on the summed loss,
        # then one Adam step on the mean cross-entropy at the adversarial examples.
        opt = torch.optim.Adam(model.parameters(), lr=float(r.get('lr', 1e-3)), betas=(0.9, 0.999), eps=1e-8)

        def step(i):
            x, y = rows(i)
            requires_grad(model, False)
            xa = pgd(model, x, y, r['eps'], r['alpha'], int(r['steps']), True)
            requires_grad(model, True)
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(xa), y).backward()
            opt.step()

    else:
        raise ValueError(f'unknown workload {kind}')
    times = []
    for i in range(int(r.get('warmup', 1)) + int(r['iters'])):
        t0 = time.perf_counter()
        step(i)
        times.append(time.perf_counter() - t0)
    return {'seconds': times[int(r.get('warmup', 1)):], 'threads': torch.get_num_threads()}


def hello(r):
    return {
        'torch': torch.__version__,
        'python': platform.python_version(),
        'numpy': np.__version__,
        'onnx': onnx.__version__,
        'executable': sys.executable,
        'blas': blas_library(),
        'mkldnn': torch.backends.mkldnn.is_available(),
        'parallel': torch.__config__.parallel_info().splitlines()[-1].strip(),
    }


def load(r):
    MODELS[r['name']] = build(r['onnx'])
    return {'parameters': sum(p.numel() for p in MODELS[r['name']].parameters())}


def data(r):
    shape = [int(v) for v in r['shape']]
    x = torch.from_numpy(np.fromfile(r['x'], dtype='<f4').reshape(shape))
    y = torch.from_numpy(np.fromfile(r['y'], dtype='<f4').astype(np.int64))
    if y.shape[0] != shape[0]:
        raise ValueError(f'{y.shape[0]} labels for {shape[0]} images')
    DATA[r['name']] = (x, y)
    return {'count': shape[0]}


def forward(r):
    x = torch.tensor(r['x'], dtype=torch.float32).reshape([int(v) for v in r['shape']])
    with torch.inference_mode():
        return {'logits': MODELS[r['model']](x).flatten().tolist()}


HANDLERS = {'hello': hello, 'load': load, 'data': data, 'forward': forward, 'bench': bench}


def main():
    out = sys.stdout
    sys.stdout = sys.stderr  # anything printed by a library goes to stderr; stdout carries answers only
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        if req.get('op') == 'quit':
            break
        try:
            answer = {'ok': True, **HANDLERS[req['op']](req)}
        except Exception as e:  # the answer says what failed; the peer stays up for the next request
            answer = {'ok': False, 'error': f'{type(e).__name__}: {e}'}
        answer['id'] = req.get('id')
        out.write(json.dumps(answer) + '\n')
        out.flush()


if __name__ == '__main__':
    main()
