// CROWN-IBP's bound as a differentiable function (Zhang et al., ICLR 2020): interval boxes for every relu,
// then the margins z_y − z_j carried backward from the last dense layer to the input through linear
// relaxations built on those boxes, as src/verify does in float64, here in float32 tensors for training.
import { ops } from '../autodiff/index.ts';
import { Tensor } from '../tensor/index.ts';
import { effectiveWeight, inputInterval, intervalStep } from './interval-step.ts';
import type { Params } from './layers.ts';
import type { Sequential } from './sequential.ts';

type Box = { lo: Tensor; hi: Tensor };

/** [n, ...] → [n·k, ...]: each example's tensor repeated for its k margin rows. */
function repeatRows(t: Tensor, k: number): Tensor {
  const [n, ...rest] = t.shape;
  return ops.reshape(ops.broadcastTo(ops.reshape(t, [n, 1, ...rest]), [n, k, ...rest]), [
    n * k,
    ...rest,
  ]);
}

/**
 * Lower bounds [N, C] of the margins z_y − z_j (0 at j = y) over the ε-box, both ways: `crown`, by
 * back-substitution, and `ibp`, over the interval box of the last layer's input (the same boxes). Layers:
 * dense, conv2d (plain or hashed), relu, flatten, with a dense last layer; any other is an error naming it.
 */
export function crownIbpMargins(
  model: Sequential,
  x: Tensor,
  mask: Tensor,
  eps: number,
  params: Params = model.params,
): { crown: Tensor; ibp: Tensor } {
  const layers = model.layers,
    L = layers.length,
    last = layers[L - 1];
  if (last.type !== 'dense' && last.type !== 'hashed-dense')
    throw new Error(`crown-ibp: the last layer must be dense, not ${last.type}`);
  layers.forEach((spec, i) => {
    if (
      !['dense', 'hashed-dense', 'conv2d', 'hashed-conv2d', 'relu', 'flatten'].includes(spec.type)
    )
      throw new Error(
        `crown-ibp: layers[${i}] has type '${spec.type}', which it cannot train through (dense, conv2d, relu, flatten; use ibp)`,
      );
  });
  const { lo: lo0, hi: hi0 } = inputInterval(x, eps);
  // Interval boxes of every layer's input, differentiable (the relaxations and the IBP margins use them).
  const boxes: Box[] = [{ lo: lo0, hi: hi0 }];
  for (let i = 0; i < L - 1; i++)
    boxes.push(intervalStep(layers[i], boxes[i].lo, boxes[i].hi, params));
  const [n, classes] = mask.shape;
  const w = effectiveWeight(last, params),
    b = params.get((last as { bias: string }).bias)!;
  const d = w.shape[1];
  // Rows (example i, class j): W_y − W_j over the last layer's input, constant b_y − b_j.
  const wy = ops.matmul(mask, w); // [n, D]
  let lambda = ops.reshape(ops.sub(ops.reshape(wy, [n, 1, d]), ops.reshape(w, [1, classes, d])), [
    n * classes,
    d,
  ]);
  const by = ops.matmul(mask, ops.reshape(b, [classes, 1])); // [n, 1]
  let constant = ops.reshape(ops.sub(by, ops.reshape(b, [1, classes])), [n * classes]);
  // IBP margins over the same box: (W_y − W_j)·mid − |W_y − W_j|·rad + b_y − b_j.
  const hMid = repeatRows(ops.mul(ops.add(boxes[L - 1].lo, boxes[L - 1].hi), 0.5), classes);
  const hRad = repeatRows(ops.mul(ops.sub(boxes[L - 1].hi, boxes[L - 1].lo), 0.5), classes);
  const ibp = ops.add(
    constant,
    ops.sub(ops.sum(ops.mul(lambda, hMid), [1]), ops.sum(ops.mul(ops.abs(lambda), hRad), [1])),
  );
  const rowsSum = (t: Tensor) => ops.sum(ops.reshape(t, [t.shape[0], t.size / t.shape[0]]), [1]);
  for (let i = L - 2; i >= 0; i--) {
    const spec = layers[i];
    const inShape = boxes[i].lo.shape.slice(1);
    if (spec.type === 'flatten') {
      lambda = ops.reshape(lambda, [n * classes, ...inShape]);
    } else if (spec.type === 'relu') {
      const l = repeatRows(boxes[i].lo, classes),
        u = repeatRows(boxes[i].hi, classes);
      // Upper chord slope s = u⁺/(u⁺ + l⁻): 1 where stable on, 0 where stable off; its intercept s·l⁻.
      const up = ops.relu(u),
        down = ops.relu(ops.neg(l));
      const slope = ops.div(up, ops.add(ops.add(up, down), 1e-12));
      // Lower line: α = 1 where u > −l (CROWN's adaptive choice, a constant), else 0.
      const ud = u.data,
        ld = l.data;
      const alpha = new Tensor(
        u.shape,
        Float32Array.from(ud, (v, k) => (v + ld[k] > 0 ? 1 : 0)),
      );
      const pos = ops.relu(lambda),
        neg = ops.sub(lambda, pos);
      constant = ops.add(constant, rowsSum(ops.mul(ops.mul(neg, slope), down)));
      lambda = ops.add(ops.mul(pos, alpha), ops.mul(neg, slope));
    } else {
      const wi = effectiveWeight(spec, params),
        bi = params.get((spec as { bias: string }).bias)!;
      if (spec.type === 'dense' || spec.type === 'hashed-dense') {
        constant = ops.add(
          constant,
          ops.reshape(ops.matmul(lambda, ops.reshape(bi, [bi.size, 1])), [n * classes]),
        );
        lambda = ops.matmul(lambda, wi);
      } else {
        const perChannel = ops.sum(lambda, [2, 3]); // [R, outC]
        constant = ops.add(
          constant,
          ops.reshape(ops.matmul(perChannel, ops.reshape(bi, [bi.size, 1])), [n * classes]),
        );
        lambda = ops.conv2dTranspose(lambda, wi, spec as never, inShape);
      }
    }
  }
  const mid0 = repeatRows(ops.mul(ops.add(lo0, hi0), 0.5), classes),
    rad0 = repeatRows(ops.mul(ops.sub(hi0, lo0), 0.5), classes);
  const crown = ops.add(
    constant,
    ops.sub(rowsSum(ops.mul(lambda, mid0)), rowsSum(ops.mul(ops.abs(lambda), rad0))),
  );
  return { crown: ops.reshape(crown, [n, classes]), ibp: ops.reshape(ibp, [n, classes]) };
}
