// --progress json and the signals as a user (or a supervisor) meets them, on real child processes: train's events,
// SIGINT and SIGTERM mid-epoch leaving a checkpoint that --resume continues to the uninterrupted run's very weights,
// an audit stopped and resumed to the same report, certify's partial result and import's nothing-written, each with
// exit code 130 and no temporary file left behind.
import { describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditReport } from '../../src/audit/report-types.ts';
import type { ProgressEvent } from '../../src/cli/progress.ts';
import { loadCheckpoint } from '../../src/io/checkpoint.ts';

const dir = mkdtempSync(join(tmpdir(), 'hg-progress-'));
const root = join(import.meta.dir, '../..');
const main = join(root, 'src/cli/main.ts');

type Line = ProgressEvent | { event: 'log'; task: string | null; message: string };

/**
 * Runs the CLI with `--progress json`, reading its standard error line by line; sends `signal` once `when` holds
 * for an event. Every line must be a JSON object.
 */
async function run(
  args: string[],
  when: (e: Line) => boolean = () => false,
  signal: 'SIGINT' | 'SIGTERM' = 'SIGINT',
) {
  const p = Bun.spawn([process.execPath, main, ...args, '--progress', 'json'], {
    cwd: root,
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const events: Line[] = [];
  let sent = false,
    rest = '';
  const decoder = new TextDecoder();
  for await (const chunk of p.stderr) {
    rest += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, i);
      rest = rest.slice(i + 1);
      let e: Line;
      try {
        e = JSON.parse(line);
      } catch {
        throw new Error(`not a JSON line on stderr: ${line}`);
      }
      events.push(e);
      if (!sent && when(e)) {
        sent = true;
        p.kill(signal);
      }
    }
  }
  const code = await p.exited;
  const messages = events.flatMap((e) => (e.event === 'log' ? [e.message] : []));
  return { code, events, sent, messages, out: await new Response(p.stdout).text() };
}

/** The events of one task, checked: a start first, counts that never go back, nothing after its end. */
function taskEvents(events: Line[], task: string): ProgressEvent[] {
  const own = events.filter((e): e is ProgressEvent => e.event !== 'log' && e.task === task);
  expect(own[0].event).toBe('start');
  for (let i = 1; i < own.length; i++) expect(own[i].done).toBeGreaterThanOrEqual(own[i - 1].done);
  expect(own.slice(0, -1).every((e) => e.event === 'start' || e.event === 'progress')).toBe(true);
  return own;
}

const tempFiles = () =>
  readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.tmp'));
const weightsSha = (model: string) =>
  JSON.parse(readFileSync(join(model, 'model.json'), 'utf8')).weights.sha256 as string;

// 3 epochs of 180 steps (batch 5 of 900 images): long enough to be stopped in the middle of an epoch.
const trainArgs = (name: string) => [
  'train',
  ...['--arch', 'mlp', '--dataset', 'synthetic', '--epochs', '3', '--seed', '3'],
  ...['--batch-size', '5', '--widths', '32', '--threads', '1'],
  ...['--out', join(dir, name), '--checkpoint', join(dir, `${name}.ckpt`)],
];
/** The forced event at the end of epoch `n`. */
const epochEnd = (n: number) => (e: Line) =>
  e.event === 'progress' && e.task === 'train' && e.epoch === n && 'epochSeconds' in e;

describe('train', () => {
  test('--progress json: start, progress with epoch, loss and accuracy, done with the test accuracy', async () => {
    const r = await run(trainArgs('full'));
    expect(r.code).toBe(0);
    const own = taskEvents(r.events, 'train');
    expect(own[0]).toMatchObject({ done: 0, total: 2700, unit: 'images', epochs: 3 });
    const progress = own.filter((e) => e.event === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(3); // one at least at every epoch's end
    expect(progress.map((e) => e.epoch)).toContain(3);
    for (const e of progress) {
      expect(typeof e.loss).toBe('number');
      expect(typeof e.accuracy).toBe('number');
      expect(e.rate).toBeGreaterThan(0);
    }
    expect(own.at(-1)).toMatchObject({ event: 'done', done: 2700, total: 2700, etaSeconds: 0 });
    expect(own.at(-1)!.testAccuracy).toBeGreaterThan(0.9);
    expect(r.messages.at(-1)).toMatch(/^saved /);
  }, 60_000);

  test('SIGINT, then SIGTERM, mid-epoch: checkpoints of that step, exit 130, and the resumed run equals the full one', async () => {
    const args = trainArgs('stopped');
    const ckpt = join(dir, 'stopped.ckpt');
    const first = await run(args, epochEnd(1), 'SIGINT');
    expect(first.code).toBe(130);
    const own = taskEvents(first.events, 'train');
    expect(own.at(-1)).toMatchObject({ event: 'interrupted', signal: 'SIGINT', checkpoint: ckpt });
    const said = first.messages.join('\n');
    const m = /interrupted by SIGINT in epoch 2\/3 after step (\d+): .* holds that step/.exec(said);
    expect(m, said).not.toBeNull();
    expect(said).toContain(
      `continue with: bun run train -- ${args.slice(1).join(' ')} --progress json --resume`,
    );
    const ck = await loadCheckpoint(ckpt);
    expect(ck.state.epochsDone).toBe(1);
    expect(ck.state.partialEpoch?.step).toBe(Number(m![1]));
    expect(ck.state.partialEpoch?.seen).toBe(5 * Number(m![1]));
    expect(existsSync(join(dir, 'stopped'))).toBe(false);
    expect(tempFiles()).toEqual([]);

    // Resumed, and stopped again by SIGTERM after the next epoch's end.
    const second = await run([...args, '--resume'], epochEnd(2), 'SIGTERM');
    expect(second.code).toBe(130);
    expect(second.messages.join('\n')).toMatch(
      new RegExp(`resumed from .* after epoch 1 and step ${m![1]} of epoch 2`),
    );
    expect(taskEvents(second.events, 'train')[0].done).toBe(900 + 5 * Number(m![1]));
    expect(second.messages.join('\n')).toMatch(
      /interrupted by SIGTERM in epoch 3\/3 after step \d+/,
    );
    expect(tempFiles()).toEqual([]);

    const third = await run([...args, '--resume']);
    expect(third.code).toBe(0);
    expect(weightsSha(join(dir, 'stopped'))).toBe(weightsSha(join(dir, 'full')));
    // The history records every epoch once, as the uninterrupted run's does.
    const history = (p: string) =>
      JSON.parse(readFileSync(join(dir, p, 'model.json'), 'utf8')).provenance.history.map(
        (h: { loss: number }) => h.loss,
      );
    expect(history('stopped')).toEqual(history('full'));
  }, 120_000);
});

describe('audit', () => {
  const auditArgs = (name: string) => [
    'audit',
    ...['--model', 'models/mnist-lenet5-h8', '--n', '6', '--n-query', '3', '--certify', 'off'],
    ...['--attacks', 'fgsm,bim,pgd-ce', '--configurations', 'dense,hashed'],
    ...['--out', join(dir, name), '--checkpoint', join(dir, `${name}.progress.json`)],
  ];
  /** What an audit found, without its timings. */
  const findings = (name: string) => {
    const r = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as AuditReport;
    return r.configurations.map((c) => ({
      name: c.name,
      clean: c.cleanAccuracy,
      robust: c.robustAccuracy,
      attacks: c.attacks.map((a) => [a.id, a.successRate, a.broken]),
    }));
  };

  test('stopped after an attack by SIGINT: progress saved, no report, exit 130; --resume finishes the same report', async () => {
    const full = await run(auditArgs('audit-full'));
    expect(full.code).toBe(0);
    const own = taskEvents(full.events, 'audit');
    expect(own[0]).toMatchObject({ done: 0, total: 6, unit: 'attacks' });
    expect(own.filter((e) => e.event === 'progress').map((e) => e.done)).toEqual([
      1, 2, 3, 4, 5, 6,
    ]);
    expect(own.at(-1)).toMatchObject({ event: 'done', done: 6, total: 6 });

    const args = auditArgs('audit-stopped');
    const out = join(dir, 'audit-stopped');
    const stopped = await run(args, (e) => e.event === 'progress' && e.task === 'audit');
    expect(stopped.code).toBe(130);
    const events = taskEvents(stopped.events, 'audit');
    const last = events.at(-1)!;
    expect(last).toMatchObject({ event: 'interrupted', signal: 'SIGINT' });
    expect(last.done).toBeLessThan(6);
    expect(stopped.messages.join('\n')).toMatch(
      /interrupted by SIGINT: the audit's progress is saved in .*audit-stopped\.progress\.json \(no report written yet\); continue with: bun run audit -- .* --resume/,
    );
    expect(existsSync(`${out}.progress.json`)).toBe(true);
    for (const ext of ['.json', '.md', '.html']) expect(existsSync(`${out}${ext}`)).toBe(false);
    expect(tempFiles()).toEqual([]);

    const resumed = await run([...args, '--resume']);
    expect(resumed.code).toBe(0);
    expect(taskEvents(resumed.events, 'audit')[0].done).toBe(last.done);
    expect(existsSync(`${out}.progress.json`)).toBe(false);
    expect(findings('audit-stopped')).toEqual(findings('audit-full'));
  }, 180_000);
});

test('certify stopped by SIGINT: a partial result marked partial, no report, nothing on stdout, exit 130', async () => {
  const out = join(dir, 'cert');
  const r = await run(
    [
      'certify',
      '--model',
      'models/mnist-mlp',
      '--eps',
      '0.01',
      '--n',
      '2000',
      '--threads',
      '1',
    ].concat(['--out', out]),
    (e) => e.event === 'start',
  );
  expect(r.code).toBe(130);
  expect(r.out).toBe('');
  expect(existsSync(`${out}.json`) || existsSync(`${out}.md`)).toBe(false);
  const partial = JSON.parse(readFileSync(`${out}.partial.json`, 'utf8'));
  expect(partial).toMatchObject({ partial: true, stoppedBy: 'SIGINT', requested: 2000 });
  expect(partial.n).toBeGreaterThan(0);
  expect(partial.n).toBeLessThan(2000);
  expect(partial.images).toHaveLength(partial.n);
  expect(partial.certified).toBe(
    partial.images.filter((i: { certified: boolean }) => i.certified).length,
  );
  expect(taskEvents(r.events, 'certify').at(-1)).toMatchObject({
    event: 'interrupted',
    done: partial.n,
  });
  expect(r.messages.join('\n')).toContain(`partial result in ${out}.partial.json`);
  expect(tempFiles()).toEqual([]);
}, 60_000);

test('import stopped by SIGINT while measuring writes nothing, exit 130', async () => {
  const out = join(dir, 'imported');
  const r = await run(
    ['import', join(root, 'test/fixtures/onnx/lenet.onnx'), '--dataset', 'mnist', '--out', out],
    (e) => e.event === 'start',
  );
  expect(r.code).toBe(130);
  expect(existsSync(out)).toBe(false);
  expect(taskEvents(r.events, 'import').at(-1)).toMatchObject({ event: 'interrupted' });
  expect(r.messages.join('\n')).toContain(`nothing written at ${out}`);
}, 60_000);
