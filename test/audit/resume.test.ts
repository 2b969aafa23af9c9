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
import type { AuditReport } from '../../src/audit/report-types.ts';
import { runAudit, type AuditInput } from '../../src/audit/run-audit.ts';
import { loadAuditCheckpoint, saveAuditCheckpoint } from '../../src/cli/audit-checkpoint.ts';
import { committedModel } from '../helpers/attack-data.ts';

class Stop extends Error {}

let base: Omit<AuditInput, 'command'>;
let full: AuditReport;
const snapshots: AuditProgress[] = [];
// What differs between two runs of one audit: when it ran and how long it took.
const numbers = (r: AuditReport) =>
  JSON.stringify({
    ...r,
    date: 0,
    seconds: 0,
    configurations: r.configurations.map((c) => ({
      ...c,
      attacks: c.attacks.map((a) => ({ ...a, seconds: 0 })),
    })),
  });

/** The audit stopped at its `k`-th checkpoint (as a killed process would), then resumed from that checkpoint. */
async function stopAndResume(k: number): Promise<AuditReport> {
  let seen = 0,
    saved: AuditProgress | undefined;
  await expect(
    runAudit({
      ...base,
      command: 'test',
      checkpoint: async (p) => {
        saved = JSON.parse(JSON.stringify(p)); // what the file holds
        if (++seen === k) throw new Stop();
      },
    }),
  ).rejects.toBeInstanceOf(Stop);
  return runAudit({ ...base, command: 'test', resume: saved! });
}

describe('audit resume', () => {
  beforeAll(async () => {
    const { test } = await loadDataset('mnist');
    base = {
      family: 'mnist-lenet5',
      datasetName: 'mnist',
      dense: {
        name: 'mnist-lenet5',
        model: await committedModel('mnist-lenet5'),
        weightsSha256: 'd',
      },
      hashed: {
        name: 'mnist-lenet5-h8',
        model: await committedModel('mnist-lenet5-h8'),
        weightsSha256: 'h',
      },
      test,
      n: 12,
      nQuery: 6,
      seed: 4,
      budgets: { ...MNIST_BUDGETS, pgdSteps: 10, pgdAlpha: 0.04, squareQueries: 60 },
      attacks: ['fgsm', 'pgd-ce', 'eot-pgd', 'square'],
      configurations: ['hashed', 'hashed+GI random'],
    };
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
