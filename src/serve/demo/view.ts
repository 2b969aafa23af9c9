// Rendering for the demo page: model inputs as pixels (the 28×28 input, the adversarial image, the perturbation
// amplified to black/white at ±ε), score bars, and the lines that describe a model's defense and certificate.
import type { ModelInfo } from './client.ts';

/** The element with this id (the page's template has every one the script uses). */
export const $ = <T extends HTMLElement = HTMLElement>(id: string) =>
  document.getElementById(id) as T;

/** Writes `values` ([C, H, W] in [0, 1], C 1 or 3) into the canvas, one canvas pixel per input pixel. */
export function drawImage(canvas: HTMLCanvasElement, values: ArrayLike<number>, shape: number[]) {
  const [c, h, w] = shape;
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < h * w; i++) {
    for (let k = 0; k < 3; k++) img.data[4 * i + k] = 255 * values[(c === 3 ? k : 0) * h * w + i];
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/** The perturbation xAdv − x as an image: grey 0, white +ε, black −ε (amplified 1/(2ε)). */
export function drawPerturbation(
  canvas: HTMLCanvasElement,
  x: ArrayLike<number>,
  xAdv: ArrayLike<number>,
  eps: number,
  shape: number[],
) {
  const d = Array.from(xAdv, (v, i) => 0.5 + (v - x[i]) / (2 * Math.max(eps, 1e-12)));
  drawImage(canvas, d, shape);
}

/** One bar per class (the largest highlighted), or a line saying the deployment reveals labels only. */
export function renderBars(el: HTMLElement, values: number[] | null, classes: string[]) {
  el.replaceChildren();
  if (!values) {
    el.textContent = 'labels only: this deployment reveals no scores';
    return;
  }
  const top = values.indexOf(Math.max(...values));
  values.forEach((v, i) => {
    const row = document.createElement('div');
    row.className = i === top ? 'bar top' : 'bar';
    const name = document.createElement('span');
    name.textContent = classes[i] ?? String(i);
    const fill = document.createElement('i');
    fill.style.width = `${(100 * Math.max(0, Math.min(1, v))).toFixed(1)}%`;
    const num = document.createElement('span');
    num.textContent = v.toFixed(3);
    row.append(name, fill, num);
    el.append(row);
  });
}

/** The defense as a line: its stages in words ('none' without one). */
export function describeDefense(m: ModelInfo): string {
  const stages = m.defense?.stages ?? [];
  if (!stages.length) return 'none (no gradient-inhibition stage)';
  return stages
    .map((s) =>
      s.kind === 'random'
        ? `GI random: logits × α ∈ [${s.alphaMin}, ${s.alphaMax}] and last-layer noise σ ${s.noise}, drawn per request`
        : s.kind === 'scale'
          ? `GI scale: last layer × ${s.alpha}`
          : s.kind === 'magnitude'
            ? `GI magnitude: W + ${s.eps}·sign(W)`
            : s.kind,
    )
    .join('; ');
}

/** The certificate as a line: the radius, or why there is none. */
export function describeRadius(
  m: ModelInfo,
  a: { radius?: number | null; notCertifiedAt?: number | null },
): string {
  if (!m.certificates)
    return 'not offered (the model was not trained with --certified; certificates need certified training)';
  if (a.radius === null || a.radius === undefined) return 'the certification budget ran out';
  const above =
    a.notCertifiedAt != null ? ` (not certified at ${a.notCertifiedAt.toFixed(4)})` : '';
  return `L∞ ${a.radius.toFixed(4)}${above}: no input that close gets another label, proven by sound bounds`;
}

/** Shows or hides an element. */
export function show(el: HTMLElement, on: boolean) {
  el.hidden = !on;
}
