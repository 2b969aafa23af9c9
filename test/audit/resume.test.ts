// An interrupted audit resumes with the same numbers: a run that stops after any attack (inside a randomized
// configuration too, where the seed counter matters) and continues from its checkpoint writes the report an
// uninterrupted run writes; a checkpoint of other settings is refused; the file is checked by its sha256.
import { beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '../../src/data/node.ts';
import { MNIST_BUDGETS } from '../../src/audit/attack-suite.ts';
import type { AuditProgress } from '../../src/audit/audit-progress.ts';
import type { AuditReport, CascadeSummary } from '../../src/audit/report-types.ts';
import { runAudit, type AuditInput } from '../../src/audit/run-audit.ts';
import { loadAuditCheckpoint, saveAuditCheckpoint } from '../../src/cli/audit-checkpoint.ts';
import { lenetFamily, reportNumbers } from '../helpers/audit-family.ts';

class Stop extends Error {}

let base: Omit<AuditInput, 'command'>;
let full: AuditReport;
const snapshots: AuditProgress[] = [];
const numbers = reportNumbers;

/**
 * The audit stopped at its `k`-th checkpoint (as a killed process would), then resumed from that checkpoint;
 * `after` counts the resumed run's own checkpoints.
 */
async function stopAndResume(
  k: number,
  input: Omit<AuditInput, 'command'> = base,
  after: AuditProgress[] = [],
): Promise<AuditReport> {
  let seen = 0,
    saved: AuditProgress | undefined;
  await expect(
    runAudit({
      ...input,
      command: 'test',
      checkpoint: async (p) => {
        saved = JSON.parse(JSON.stringify(p)); // what the file holds
        if (++seen === k) throw new Stop();
      },
    }),
  ).rejects.toBeInstanceOf(Stop);
  return runAudit({
    ...input,
    command: 'test',
    resume: saved!,
    checkpoint: async (p) => void after.push(p),
  });
}

beforeAll(async () => {
  const { test } = await loadDataset('mnist');
  base = {
    ...(await lenetFamily()),
    test,
    n: 12,
    nQuery: 6,
    seed: 4,
    budgets: { ...MNIST_BUDGETS, pgdSteps: 10, pgdAlpha: 0.04, squareQueries: 60 },
    attacks: ['fgsm', 'pgd-ce', 'eot-pgd', 'square'],
    configurations: ['hashed', 'hashed+GI random'],
  };
});

describe('audit resume', () => {
  beforeAll(async () => {
    full = await runAudit({
      ...base,
      command: 'test',
      checkpoint: async (p) => void snapshots.push(JSON.parse(JSON.stringify(p))),
    });
  }, 300_000);

  test('a checkpoint after every attack and every configuration', () => {
    const attacks = full.configurations.reduce((s, c) => s + c.attacks.length, 0);
    expect(snapshots.length).toBe(attacks + full.configurations.length);
    expect(snapshots.at(-1)!.current).toBeNull();
    expect(snapshots.at(-1)!.reports.map((r) => r.name)).toEqual(['hashed', 'hashed+GI random']);
    expect(snapshots.every((s, i) => i === 0 || s.seconds >= snapshots[i - 1].seconds)).toBe(true);
  });

  test('stopped inside the randomized configuration, the resumed run writes the same report', async () => {
    // hashed runs 3 attacks (eot-pgd is for randomized models) then checkpoints its end: checkpoint 6 is the
    // randomized configuration's second attack, after its clean verdicts and first attack drew seeds.
    expect(snapshots[5].current?.name).toBe('hashed+GI random');
    expect(snapshots[5].current!.attacks.length).toBe(2);
    expect(snapshots[5].current!.seedsDrawn).toBeGreaterThan(0);
    expect(numbers(await stopAndResume(6))).toBe(numbers(full));
  }, 300_000);

  test('stopped between configurations, the resumed run writes the same report', async () => {
    expect(snapshots[3].current).toBeNull();
    expect(numbers(await stopAndResume(4))).toBe(numbers(full));
  }, 300_000);

  test('a resume with other settings is refused', async () => {
    await expect(
      runAudit({ ...base, seed: 5, command: 'test', resume: snapshots[2] }),
    ).rejects.toThrow(/other settings/);
  });

  test('the checkpoint file round-trips and a corrupt one is named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-ckpt-'));
    const path = join(dir, 'a.json');
    await saveAuditCheckpoint(path, snapshots[5]);
    expect(await loadAuditCheckpoint(path)).toEqual(snapshots[5]);
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.replace('"seedsDrawn":', '"seedsDrawn":1'));
    await expect(loadAuditCheckpoint(path)).rejects.toThrow(/checksum/);
    writeFileSync(path, text.slice(0, text.length / 2));
    await expect(loadAuditCheckpoint(path)).rejects.toThrow(/not JSON/);
    await expect(loadAuditCheckpoint(join(dir, 'missing.json'))).rejects.toThrow(
      /no audit checkpoint/,
    );
  });
});

// AutoAttack-rand (EOT(20)) on 12 images in chunks of 5: a checkpoint after each of the first two chunks, and a run
// stopped between chunks continues with the next chunk (not from the first image) and writes the same report.
describe('audit resume inside a chunked cascade', () => {
  let chunked: Omit<AuditInput, 'command'>;
  let report: AuditReport;
  const saved: AuditProgress[] = [];

  beforeAll(async () => {
    chunked = {
      ...base,
      attacks: ['fgsm', 'autoattack-rand'],
      configurations: ['hashed+GI random'],
      cascadeChunk: 5,
    };
    report = await runAudit({
      ...chunked,
      command: 'test',
      checkpoint: async (p) => void saved.push(JSON.parse(JSON.stringify(p))),
    });
  }, 600_000);

  test('a checkpoint after every chunk but the last, each with the images done so far', () => {
    // fgsm, chunk 1 (5 images), chunk 2 (10), the finished cascade, the configuration's end.
    expect(saved.length).toBe(5);
    expect(saved.map((s) => s.current?.partial?.done ?? null)).toEqual([null, 5, 10, null, null]);
    expect(saved[1].current!.partial!.majority).toHaveLength(5);
    expect(saved[2].current!.seedsDrawn).toBeGreaterThan(saved[1].current!.seedsDrawn);
    const row = report.configurations[0].attacks.find((a) => a.id === 'autoattack-rand')!;
    expect(row.n).toBe(12);
    expect(row.broken).toHaveLength(12);
    // The components' counts add up over the chunks: every clean-correct image is attacked by APGD-CE.
    const cascade = (row as CascadeSummary).cascade;
    const correct = [...report.configurations[0].cleanCorrect!].filter((c) => c === '1').length;
    expect(cascade.components[0].attacked).toBe(correct);
  });

  test('stopped between chunks, the resumed run attacks only the chunks left and writes the same report', async () => {
    const after: AuditProgress[] = [];
    expect(numbers(await stopAndResume(3, chunked, after))).toBe(numbers(report));
    // Resumed after chunk 2: only the last chunk, then the entry's and the configuration's checkpoints.
    expect(after.length).toBe(2);
  }, 600_000);

  test('a resume with another chunk size is refused', async () => {
    await expect(
      runAudit({ ...chunked, cascadeChunk: 4, command: 'test', resume: saved[1] }),
    ).rejects.toThrow(/other settings/);
  });
});
