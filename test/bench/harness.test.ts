// The pieces of `bun run bench` (a --quick run takes minutes on two cores, so it is not run here): the ratios object
// (every target's key, its direction, per-round medians, a skipped peer as null with its reason), the workload table's
// consistency with the ratios, the scaling chart's SVG (axes, log-scale ticks, legend, one line per model and thread
// count), and scripts/bench-table.ts printing the tables and replacing the README block between its markers.
import { describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeRatios, RATIOS, type RoundFigures } from '../../bench/ratios.ts';
import { scalingSvg } from '../../bench/scaling-chart.ts';
import { SCALING_BATCHES, SCALING_PAIRS, type ScalingPoint } from '../../bench/scaling.ts';
import { workloadSpecs } from '../../bench/workloads.ts';

const ROOT = join(import.meta.dir, '../..');
const REQUIRED = [
  'lenet5-infer-b256-vs-ort',
  'mlp-infer-b256-vs-ort',
  'lenet5-infer-b1-latency-vs-ort',
  'lenet5-train-b64-vs-torch',
  'cifar-train-b64-vs-torch',
  'pgd40-vs-torch',
  'at-epoch-vs-torch',
  'lenet5-h8-vs-dense',
  'cifar-h8-vs-dense',
];

/** Round figures for every workload and contender: `base` × a per-peer factor, 5 rounds. */
function figures(skipTorch = false): RoundFigures {
  const factor: Record<string, number> = {
    hashguard: 1,
    'hashguard-h8': 0.96,
    onnxruntime: 1.25,
    torch: 0.8,
  };
  const out: RoundFigures = {};
  for (const s of workloadSpecs(false)) {
    out[s.id] = {};
    for (const peer of Object.keys(s.models))
      out[s.id][peer] =
        skipTorch && peer === 'torch'
          ? { skipped: 'no Python with torch' }
          : { rounds: [100, 90, 110, 95, 105].map((v) => v * factor[peer]) };
  }
  return out;
}

describe('ratios', () => {
  test('every target key is there, with a direction, a target and a value', () => {
    const r = computeRatios(figures());
    for (const key of REQUIRED) {
      expect(r[key], key).toBeDefined();
      expect(r[key].direction.length).toBeGreaterThan(20);
      expect(r[key].target).toMatch(/^(>=|<=) \d/);
      expect(r[key].perRound.length).toBe(5);
    }
    expect(r['lenet5-infer-b256-vs-ort'].value).toBe(0.8);
    expect(r['lenet5-infer-b256-vs-ort'].pass).toBe(true);
    expect(r['lenet5-train-b64-vs-torch'].value).toBe(1.25);
    expect(r['lenet5-h8-vs-dense'].value).toBe(0.96);
    expect(r['lenet5-infer-b1-latency-vs-ort'].direction).toContain(
      '< 1 means hashguard is faster',
    );
    expect(r['lenet5-infer-b256-vs-ort'].direction).toContain('> 1 means hashguard is faster');
  });

  test('the value is the median of per-round ratios, not the ratio of medians', () => {
    const f: RoundFigures = {
      'pgd40-lenet5': {
        hashguard: { rounds: [10, 20, 30] },
        torch: { rounds: [10, 5, 30] },
      },
    };
    const r = computeRatios(f)['pgd40-vs-torch'];
    expect(r.perRound).toEqual([1, 4, 1]);
    expect(r.value).toBe(1);
    expect(r.ratioOfMedians).toBe(2);
    expect(r.pass).toBe(false);
  });

  test('a skipped peer leaves the ratio null with the reason, never a number', () => {
    const r = computeRatios(figures(true));
    expect(r['pgd40-vs-torch'].value).toBeNull();
    expect(r['pgd40-vs-torch'].pass).toBeNull();
    expect(r['pgd40-vs-torch'].reason).toContain('no Python with torch');
    expect(r['lenet5-infer-b256-vs-ort'].value).toBe(0.8);
  });

  test('each ratio names a workload that runs both its contenders, at the same threads for all peers', () => {
    const specs = new Map(workloadSpecs(false).map((s) => [s.id, s]));
    for (const d of RATIOS) {
      const s = specs.get(d.workload);
      expect(s, d.key).toBeDefined();
      expect(Object.keys(s!.models)).toContain(d.numerator);
      expect(Object.keys(s!.models)).toContain(d.denominator);
    }
    const quick = workloadSpecs(true);
    expect(quick.map((s) => s.id)).toEqual([...specs.keys()]);
    for (const s of quick) expect(s.iters).toBeLessThanOrEqual(10);
  });
});

describe('scaling chart', () => {
  const points: ScalingPoint[] = SCALING_PAIRS.flat().flatMap((model, m) =>
    SCALING_BATCHES.flatMap((batch) =>
      [1, 2].map((threads) => ({
        model,
        batch,
        threads,
        imagesPerSec: 100 * (m + 1) * batch * threads,
        calls: 3,
      })),
    ),
  );
  const svg = scalingSvg(points, 'test run');

  test('well-formed: one root, tags balanced', () => {
    expect(svg.trimStart()).toStartWith('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(svg.trimEnd()).toEndWith('</svg>');
    const opened = (svg.match(/<[a-z]+[\s>]/g) ?? []).length;
    const selfClosed = (svg.match(/\/>/g) ?? []).length;
    const closed = (svg.match(/<\/[a-z]+>/g) ?? []).length;
    expect(opened).toBe(selfClosed + closed);
  });

  test('axes with every batch size as a tick on a log scale, in every panel', () => {
    expect((svg.match(/class="axis"/g) ?? []).length).toBe(2 * SCALING_PAIRS.length);
    for (const b of SCALING_BATCHES)
      expect((svg.match(new RegExp(`class="tick-x"[^>]*>${b}<`, 'g')) ?? []).length).toBe(
        SCALING_PAIRS.length,
      );
    // Log scale: batch 1, 4, 16, ... are equally spaced.
    const xs = [...svg.matchAll(/<text class="tick-x" x="([\d.]+)"/g)]
      .slice(0, SCALING_BATCHES.length)
      .map((m) => Number(m[1]));
    const gaps = xs.slice(1).map((x, i) => x - xs[i]);
    for (const g of gaps) expect(g).toBeCloseTo(gaps[0], 6);
    expect(svg).toContain('batch size (log scale)');
    expect(svg).toContain('images/s (log scale)');
    expect(svg).toMatch(/class="tick-y"[^>]*>1k</);
  });

  test('a legend and one line per model and thread count', () => {
    for (const label of [
      'dense, 1 thread',
      'dense, 2 threads',
      'hashed 1/8, 1 thread',
      'hashed 1/8, 2 threads',
    ])
      expect(svg).toContain(`>${label}<`);
    for (const model of SCALING_PAIRS.flat())
      for (const threads of [1, 2])
        expect(svg).toContain(`data-model="${model}" data-threads="${threads}"`);
  });
});

describe('scripts/bench-table.ts', () => {
  test('prints the targets and workload tables; --write replaces only the marked block', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashguard-bench-table-'));
    try {
      const specs = workloadSpecs(false);
      const f = figures(true);
      const result = {
        schema: 'hashguard-bench/2',
        date: '2026-12-07T00:00:00.000Z',
        command: 'bun run bench',
        machine: {
          cpu: 'Test CPU',
          cores: 2,
          memoryGiB: 8,
          simd: ['avx2'],
          versions: { bun: '1.4.5', onnxruntime: '1.30.0', torch: null, python: null },
          torchBlas: null,
        },
        source: { commit: 'abcdef0123', dirty: false },
        settings: { rounds: 5 },
        peers: { torch: { skipped: 'no Python with torch' } },
        workloads: specs.map((s) => ({
          id: s.id,
          title: s.title,
          unit: s.unit,
          threads: s.threads,
          results: Object.fromEntries(
            Object.entries(f[s.id]).map(([p, r]) => [
              p,
              'rounds' in r ? { median: r.rounds[0] } : r,
            ]),
          ),
        })),
        ratios: computeRatios(f),
        scaling: {
          points: [{ model: 'mnist-mlp', threads: 1, batch: 1, imagesPerSec: 1, calls: 1 }],
        },
      };
      const file = join(dir, 'result.json');
      writeFileSync(file, JSON.stringify(result));
      const run = (...args: string[]) =>
        Bun.spawnSync([process.execPath, 'scripts/bench-table.ts', file, ...args], {
          cwd: ROOT,
          stdout: 'pipe',
          stderr: 'pipe',
        });
      const printed = run();
      expect(printed.exitCode, printed.stderr.toString()).toBe(0);
      const text = printed.stdout.toString();
      for (const key of REQUIRED) expect(text).toContain(`\`${key}\``);
      expect(text).toContain('PyTorch skipped (no Python with torch)');
      expect(text).toContain(
        '| LeNet-5 inference, batch 256 | 2 | 100 images/s | 96 images/s | 125 images/s | skipped |',
      );
      expect(text).toContain('docs/img/bench-scaling.svg');

      // The serving memory table judges growth on the trend where the file has one (its last sample swings with
      // the collector), and on the last sample for older files.
      const memory = join(dir, 'memory.json');
      const row = (model: string, growthPercent: number, trendGrowthPercent?: number) => ({
        model,
        rssAfterWarmupMiB: 100,
        rssAfterMiB: 100 + growthPercent,
        peakMiB: 120,
        growthPercent,
        ...(trendGrowthPercent === undefined ? {} : { trendGrowthPercent }),
      });
      writeFileSync(
        memory,
        JSON.stringify({
          command: 'bun run bench:memory',
          date: '2026-12-07T00:00:00.000Z',
          requests: 100000,
          settings: { describe: '2 inference workers' },
          models: [row('a', 7.2, 1.1), row('b', -1, 6.5), row('c', 7.2)],
        }),
      );
      const withMemory = run('--memory', memory).stdout.toString();
      expect(withMemory).toContain('| a | 100 MiB | 107.2 MiB | 120 MiB | 1.1%  | 7.2% |');
      expect(withMemory).toContain('| b | 100 MiB | 99 MiB | 120 MiB | 6.5% **(over)** | -1% |');
      expect(withMemory).toContain(
        '| c | 100 MiB | 107.2 MiB | 120 MiB | 7.2% **(over)** | 7.2% |',
      );

      const readme = join(dir, 'README.md');
      writeFileSync(
        readme,
        'before\n<!-- bench-table:start -->\nold table\n<!-- bench-table:end -->\nafter\n',
      );
      expect(run('--write', readme).exitCode).toBe(0);
      const doc = readFileSync(readme, 'utf8');
      expect(doc).toStartWith('before\n<!-- bench-table:start -->\n`bun run bench`');
      expect(doc).toEndWith('<!-- bench-table:end -->\nafter\n');
      expect(doc).not.toContain('old table');

      writeFileSync(readme, 'no markers\n');
      const refused = run('--write', readme);
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr.toString()).toContain('no <!-- bench-table:start -->');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
