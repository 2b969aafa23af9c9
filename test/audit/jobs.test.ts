// An audit cut into jobs gives one report whoever runs the jobs and in whatever order: jobs run backwards, or split
// between two separately built setups (as two machines would), or as shards merged afterwards, give the report the
// in-order single-process run gives; a run stopped after any job resumes to the same report.
import { beforeAll, describe, expect, test } from 'bun:test';
import { loadDataset } from '../../src/data/node.ts';
import {
  MNIST_BUDGETS,
  jobKey,
  planJobs,
  runAudit,
  runAuditJobs,
  runJob,
  setupAudit,
  type AuditInput,
  type AuditProgress,
  type AuditReport,
  type JobExecutor,
} from '../../src/audit/index.ts';
import { lenetFamily, reportNumbers } from '../helpers/audit-family.ts';

class Stop extends Error {}

let base: Omit<AuditInput, 'command'>;
let inOrder: AuditReport;
const saved: AuditProgress[] = [];

/** A fresh input: new model objects, so nothing a run leaves in them (seed counters, chains) can carry over. */
async function freshInput(): Promise<Omit<AuditInput, 'command'>> {
  return { ...base, ...(await lenetFamily()) };
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
    block: 5,
    certify: 'ibp',
  };
  inOrder = await runAudit({
    ...(await freshInput()),
    command: 'test',
    checkpoint: async (p) => void saved.push(JSON.parse(JSON.stringify(p))),
  });
}, 300_000);

describe('audit cut into jobs', () => {
  test('the plan: every attack in blocks of at most `block` images, then checks and certificates', async () => {
    const s = await setupAudit({ ...(await freshInput()), command: 'test' });
    const jobs = planJobs({ ctx: s.ctx, configs: s.configs, block: 5, certify: 'ibp' });
    const keys = jobs.map(jobKey);
    expect(new Set(keys).size).toBe(keys.length);
    // hashed: fgsm, pgd-ce (12 images: 3 blocks each), square (6: 2 blocks); GI random also eot-pgd (3 blocks).
    expect(keys.filter((k) => k.startsWith('attack/hashed/'))).toHaveLength(8);
    expect(keys.filter((k) => k.startsWith('attack/hashed+GI random/'))).toHaveLength(11);
    expect(keys).toContain('checks/hashed');
    expect(keys).toContain('certify/hashed+GI random');
    for (const j of jobs) if (j.kind === 'attack') expect(j.end - j.start).toBeLessThanOrEqual(5);
    // One checkpoint per job, each holding every result so far, and at most one example candidate per
    // configuration (the one the report shows: later ones are dropped as they come).
    expect(saved).toHaveLength(jobs.length);
    expect(Object.keys(saved.at(-1)!.jobs!).sort()).toEqual([...keys].sort());
    for (const p of saved) {
      const withExample = Object.entries(p.jobs!).filter(
        ([, r]) => r.kind === 'attack' && r.example !== null,
      );
      const configs = withExample.map(([k]) => k.split('/')[1]);
      expect(new Set(configs).size).toBe(configs.length);
    }
    expect(inOrder.examples.length).toBeGreaterThan(0);
    expect(inOrder.examples.map((e) => e.config)).toEqual(
      Object.entries(saved.at(-1)!.jobs!)
        .filter(([, r]) => r.kind === 'attack' && r.example !== null)
        .map(([k]) => k.split('/')[1]),
    );
  });

  test('the report is whole: the configurations, their attacks on all images, checks and certificates', () => {
    expect(inOrder.configurations.map((c) => c.name)).toEqual(['hashed', 'hashed+GI random']);
    for (const c of inOrder.configurations) {
      expect(c.attacks.find((a) => a.id === 'fgsm')!.n).toBe(12);
      expect(c.attacks.find((a) => a.id === 'square')!.n).toBe(6);
      expect(c.checks.map((k) => k.id)).toContain('monotone-in-eps');
      expect(c.certified).toHaveLength(12);
      expect(c.robustSweep).toHaveLength(6);
    }
  });

  test('jobs run backwards give the same report', async () => {
    const backwards: JobExecutor = {
      async run(jobs, done) {
        const s = await setupAudit({ ...(await freshInput()), command: 'test' });
        const setup = { ctx: s.ctx, configs: s.configs, block: 5, certify: 'ibp' as const };
        for (const job of [...jobs].reverse()) await done(job, await runJob(setup, job));
      },
    };
    const r = await runAudit({ ...(await freshInput()), command: 'test', executor: backwards });
    expect(reportNumbers(r)).toBe(reportNumbers(inOrder));
  }, 300_000);

  test('jobs split between two separately built setups, interleaved, give the same report', async () => {
    const setups = await Promise.all(
      [0, 1].map(async () => {
        const s = await setupAudit({ ...(await freshInput()), command: 'test' });
        return { ctx: s.ctx, configs: s.configs, block: 5, certify: 'ibp' as const };
      }),
    );
    const split: JobExecutor = {
      async run(jobs, done) {
        const order = jobs.map((j, i) => ({ j, i })).sort((a, b) => (a.i % 3) - (b.i % 3));
        for (const { j, i } of order) await done(j, await runJob(setups[i % 2], j));
      },
    };
    const r = await runAudit({ ...(await freshInput()), command: 'test', executor: split });
    expect(reportNumbers(r)).toBe(reportNumbers(inOrder));
  }, 300_000);

  test('three shards, merged, give the same report', async () => {
    const parts: AuditProgress[] = [];
    for (let i = 0; i < 3; i++)
      parts.push(
        await runAuditJobs({ ...(await freshInput()), command: 'test' }, { index: i, count: 3 }),
      );
    const counts = parts.map((p) => Object.keys(p.jobs!).length);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(Object.keys(saved.at(-1)!.jobs!).length);
    const merged: AuditProgress = {
      ...parts[0],
      jobs: Object.assign({}, ...parts.map((p) => p.jobs)),
    };
    let ran = 0;
    const r = await runAudit({
      ...(await freshInput()),
      command: 'test',
      resume: merged,
      onJob: (p) => void (p.job && ran++),
    });
    expect(ran).toBe(0);
    expect(reportNumbers(r)).toBe(reportNumbers(inOrder));
  }, 300_000);

  test('stopped after any job, the resumed run writes the same report', async () => {
    for (const k of [1, Math.floor(saved.length / 2)]) {
      let seen = 0;
      let last: AuditProgress | undefined;
      await expect(
        runAudit({
          ...(await freshInput()),
          command: 'test',
          checkpoint: async (p) => {
            last = JSON.parse(JSON.stringify(p));
            if (++seen === k) throw new Stop();
          },
        }),
      ).rejects.toBeInstanceOf(Stop);
      const r = await runAudit({ ...(await freshInput()), command: 'test', resume: last });
      expect(reportNumbers(r)).toBe(reportNumbers(inOrder));
    }
  }, 300_000);

  test('a resume with another block size is refused', async () => {
    await expect(
      runAudit({ ...(await freshInput()), block: 4, command: 'test', resume: saved[1] }),
    ).rejects.toThrow(/other settings/);
  });
});
