// The ratios `bun run bench` reports against the project's targets, each from two contenders of one workload measured
// back to back in every round: the value is the median of the per-round ratios (drift between rounds cancels), with
// the ratio of the medians beside it. Each ratio says its direction in words; a missing peer leaves it null, with why.

/** One ratio: numerator's figure ÷ denominator's figure in `workload`, checked against `target`. */
export interface RatioDef {
  key: string;
  workload: string;
  numerator: string;
  denominator: string;
  target: { op: '>=' | '<='; value: number };
  direction: string;
}

const faster = (what: string) => `> 1 means ${what} is faster`;
/** The targets (README "Benchmarks"): throughput ratios except the latency one. */
export const RATIOS: readonly RatioDef[] = [
  {
    key: 'lenet5-infer-b256-vs-ort',
    workload: 'lenet5-infer-b256',
    numerator: 'hashguard',
    denominator: 'onnxruntime',
    target: { op: '>=', value: 0.75 },
    direction: `hashguard images/s ÷ onnxruntime-node images/s; ${faster('hashguard')}`,
  },
  {
    key: 'mlp-infer-b256-vs-ort',
    workload: 'mlp-infer-b256',
    numerator: 'hashguard',
    denominator: 'onnxruntime',
    target: { op: '>=', value: 0.5 },
    direction: `hashguard images/s ÷ onnxruntime-node images/s; ${faster('hashguard')}`,
  },
  {
    key: 'lenet5-infer-b1-latency-vs-ort',
    workload: 'lenet5-infer-b1',
    numerator: 'hashguard',
    denominator: 'onnxruntime',
    target: { op: '<=', value: 1.3 },
    direction:
      'hashguard ms per batch-1 call ÷ onnxruntime-node ms per call (a time ratio); < 1 means hashguard is faster',
  },
  {
    key: 'lenet5-train-b64-vs-torch',
    workload: 'lenet5-train-b64',
    numerator: 'hashguard',
    denominator: 'torch',
    target: { op: '>=', value: 1.0 },
    direction: `hashguard training images/s ÷ PyTorch training images/s; ${faster('hashguard')}`,
  },
  {
    key: 'cifar-train-b64-vs-torch',
    workload: 'cifar-train-b64',
    numerator: 'hashguard',
    denominator: 'torch',
    target: { op: '>=', value: 1.0 },
    direction: `hashguard training images/s ÷ PyTorch training images/s; ${faster('hashguard')}`,
  },
  {
    key: 'pgd40-vs-torch',
    workload: 'pgd40-lenet5',
    numerator: 'hashguard',
    denominator: 'torch',
    target: { op: '>=', value: 2.0 },
    direction: `hashguard PGD image-steps/s ÷ PyTorch image-steps/s; ${faster('hashguard')}`,
  },
  {
    key: 'at-epoch-vs-torch',
    workload: 'at-epoch-mnist-cnn',
    numerator: 'hashguard',
    denominator: 'torch',
    target: { op: '>=', value: 1.0 },
    direction: `hashguard PGD-AT images/s ÷ PyTorch PGD-AT images/s (= PyTorch epoch time ÷ hashguard epoch time); ${faster('hashguard')}`,
  },
  ...(
    [
      ['lenet5-h8-vs-dense', 'lenet5-infer-b256', 'inference'],
      ['lenet5-h8-vs-dense-train', 'lenet5-train-b64', 'training'],
      ['cifar-h8-vs-dense', 'cifar-infer-b256', 'inference'],
      ['cifar-h8-vs-dense-train', 'cifar-train-b64', 'training'],
    ] as const
  ).map(([key, workload, what]) => ({
    key,
    workload,
    numerator: 'hashguard-h8',
    denominator: 'hashguard',
    target: { op: '>=' as const, value: 0.95 },
    direction: `hashed 1/8 model ${what} images/s ÷ its dense twin's (both hashguard); ${faster('the hashed model')}`,
  })),
];

/** Per workload, per contender: each round's figure, or why the contender did not run. */
export type RoundFigures = Record<
  string,
  Record<string, { rounds: number[] } | { skipped: string }>
>;

export interface RatioResult {
  value: number | null;
  direction: string;
  workload: string;
  numerator: string;
  denominator: string;
  target: string;
  pass: boolean | null;
  perRound: number[];
  ratioOfMedians: number | null;
  reason?: string;
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b),
    m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round3 = (v: number) => Math.round(v * 1000) / 1000;

/** Every ratio of RATIOS from the round figures. */
export function computeRatios(figures: RoundFigures): Record<string, RatioResult> {
  const out: Record<string, RatioResult> = {};
  for (const d of RATIOS) {
    const base = {
      direction: d.direction,
      workload: d.workload,
      numerator: d.numerator,
      denominator: d.denominator,
      target: `${d.target.op} ${d.target.value}`,
    };
    const num = figures[d.workload]?.[d.numerator],
      den = figures[d.workload]?.[d.denominator];
    if (!num || !den || 'skipped' in num || 'skipped' in den) {
      const why =
        (num && 'skipped' in num && `${d.numerator}: ${num.skipped}`) ||
        (den && 'skipped' in den && `${d.denominator}: ${den.skipped}`) ||
        `workload ${d.workload} did not run`;
      out[d.key] = {
        ...base,
        value: null,
        pass: null,
        perRound: [],
        ratioOfMedians: null,
        reason: why,
      };
      continue;
    }
    const perRound = num.rounds.map((v, i) => round3(v / den.rounds[i]));
    const value = median(perRound);
    out[d.key] = {
      ...base,
      value,
      pass: d.target.op === '>=' ? value >= d.target.value : value <= d.target.value,
      perRound,
      ratioOfMedians: round3(median(num.rounds) / median(den.rounds)),
    };
  }
  return out;
}
