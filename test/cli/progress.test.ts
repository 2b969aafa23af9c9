// The progress sink in each mode, on fake streams and a fake clock: the bar redrawn in place and throttled, plain
// lines at every tenth, JSON events that parse with monotone counts and a `done` at the end, and what auto means.
import { describe, expect, test } from 'bun:test';
import {
  BAR_INTERVAL_MS,
  JSON_INTERVAL_MS,
  PLAIN_HEARTBEAT_MS,
  progressSink,
  resolveProgressMode,
  type ProgressEvent,
  type ProgressMode,
} from '../../src/cli/progress.ts';

/** A stream that records its writes; a terminal `columns` wide when `tty`. */
function fakeStream(tty: boolean, columns = 120) {
  const writes: string[] = [];
  return {
    writes,
    isTTY: tty,
    columns,
    write: (s: string) => writes.push(s),
    text: () => writes.join(''),
  };
}

/** A sink in `mode` on a fake stream with a clock the test moves (milliseconds). */
function setup(mode: ProgressMode, tty = mode === 'bar', columns = 120) {
  const err = fakeStream(tty, columns);
  const out = fakeStream(false);
  const clock = { t: 1000 };
  const sink = progressSink(err, mode, { out, now: () => clock.t });
  return { err, out, clock, sink };
}

describe('bar (a terminal)', () => {
  test('redraws one line in place, throttled, with percent, counts, rate and ETA', () => {
    const { err, clock, sink } = setup('bar');
    const task = sink.task('train', 1000, 'images');
    expect(err.writes).toEqual([]); // nothing until the first update
    for (let i = 1; i <= 100; i++) {
      clock.t += 10; // 10 ms a unit: 100 units per second
      task.update(i * 10, { detail: `step ${i}` });
    }
    // 100 updates over one second, redrawn at most every BAR_INTERVAL_MS, and once more at the end.
    const draws = err.writes.filter((w) => w.startsWith('\r') && w.length > 4);
    expect(draws.length).toBeGreaterThanOrEqual(1000 / BAR_INTERVAL_MS - 1);
    expect(draws.length).toBeLessThanOrEqual(1000 / BAR_INTERVAL_MS + 1);
    for (const d of draws) {
      expect(d.endsWith('\x1b[K')).toBe(true); // the rest of a longer earlier line is erased
      expect(d).not.toContain('\n'); // in place: never a new line
    }
    const last = draws.at(-1)!;
    expect(last).toContain('100%');
    expect(last).toContain('1000/1000 images');
    expect(last).toContain('1000 images/s'); // 10 images every 10 ms
    expect(last).toContain('ETA 0s');
    expect(last).toContain('step 100');
    expect(draws[0]).toMatch(/train .* +1% 10\/1000 images/);
  });

  test('the ETA follows the measured rate; a log line goes above the bar, which is redrawn', () => {
    const { err, clock, sink } = setup('bar');
    const task = sink.task('audit', 40, 'attacks');
    clock.t += 2000;
    task.update(4, { force: true }); // 2 attacks/s, 36 to go: 18 s
    expect(err.writes.at(-1)).toContain('ETA 18s');
    expect(err.writes.at(-1)).toContain('2.00 attacks/s');
    err.writes.length = 0;
    sink.log('[1/2] dense: fgsm 75.0%');
    expect(err.writes[0]).toBe('\r\x1b[K'); // the bar is erased first
    expect(err.writes[1]).toBe('[1/2] dense: fgsm 75.0%\n');
    expect(err.writes[2]).toMatch(/^\raudit .* 4\/40 attacks/); // and drawn again below the message
  });

  test('a line never wraps: it is cut to the terminal width', () => {
    const { err, clock, sink } = setup('bar', true, 50);
    const task = sink.task('certify', 100, 'images');
    clock.t += 500;
    task.update(50, { detail: 'x'.repeat(200), force: true });
    const line = err.writes.at(-1)!.replace('\r', '').replace('\x1b[K', '');
    expect(line.length).toBeLessThanOrEqual(49);
    expect(line.endsWith('…')).toBe(true);
  });

  test('print() puts a result on the other stream, the bar stepping aside; finish ends the bar with a line', () => {
    const { err, out, clock, sink } = setup('bar');
    const task = sink.task('bench', 3, 'measurements');
    clock.t += 1000;
    task.update(1, { force: true });
    sink.print('1 thread mnist-mlp batch-1 0.1 ms');
    expect(out.writes).toEqual(['1 thread mnist-mlp batch-1 0.1 ms\n']);
    expect(err.writes.at(-2)).toBe('\r\x1b[K');
    expect(err.writes.at(-1)).toMatch(/^\rbench .* 1\/3 measurements/);
    task.update(3);
    task.finish();
    expect(err.writes.at(-1)).toMatch(
      /^bench: done, 3\/3 measurements in 1s \(\d.* measurements\/s\)\n$/,
    );
    err.writes.length = 0;
    sink.log('saved');
    expect(err.writes).toEqual(['saved\n']); // no bar left to erase or redraw
  });
});

describe('plain (a log file, CI)', () => {
  test('a line at every tenth of the task and no control characters', () => {
    const { err, clock, sink } = setup('plain');
    const task = sink.task('train', 1000, 'images', { fields: { epochs: 4 } });
    for (let i = 1; i <= 1000; i++) {
      clock.t += 1;
      task.update(i, { detail: `epoch ${1 + Math.floor(i / 250)}/4` });
    }
    task.finish();
    const lines = err.text().split('\n').filter(Boolean);
    expect(lines).toHaveLength(11); // 10%, 20%, ..., 100%, then done
    expect(lines[0]).toMatch(
      /^train: +10% \(100\/1000 images\), 1000 images\/s, ETA 1s; epoch 1\/4$/,
    );
    expect(lines[9]).toMatch(/^train: 100% \(1000\/1000 images\)/);
    expect(lines[10]).toBe('train: done, 1000/1000 images in 1s (1000 images/s)');
    expect(err.text()).not.toMatch(/[\r\x1b]/);
  });

  test('a slow task still says where it stands every PLAIN_HEARTBEAT_MS', () => {
    const { err, clock, sink } = setup('plain');
    const task = sink.task('audit', 1000, 'attacks');
    clock.t += PLAIN_HEARTBEAT_MS - 1;
    task.update(1);
    expect(err.writes).toEqual([]);
    clock.t += 1;
    task.update(2);
    expect(err.writes).toHaveLength(1);
    expect(err.writes[0]).toMatch(/^audit: +0% \(2\/1000 attacks\)/);
  });

  test('an interrupted task says so', () => {
    const { err, clock, sink } = setup('plain');
    const task = sink.task('certify', 100, 'images');
    clock.t += 3000;
    task.update(5);
    task.interrupt({ signal: 'SIGINT' });
    expect(err.writes.at(-1)).toBe('certify: interrupted at 5/100 images after 3s\n');
  });
});

describe('json (for programs)', () => {
  const parse = (text: string) =>
    text
      .split('\n')
      .filter(Boolean)
      .map(
        (l) =>
          JSON.parse(l) as ProgressEvent | { event: 'log'; task: string | null; message: string },
      );

  test('one object per line: start, throttled progress, done; counts monotone; fields beside the counts', () => {
    const { err, clock, sink } = setup('json');
    sink.log('backend: cpu');
    const task = sink.task('train', 500, 'images', { fields: { epochs: 2, checkpoint: 'c.ckpt' } });
    for (let i = 1; i <= 500; i++) {
      clock.t += 20; // 50 images/s: 10 s in all
      task.update(i, { fields: { epoch: i <= 250 ? 1 : 2, loss: 1 / i } });
      // A smaller count is ignored: done never goes back.
      task.update(i - 1);
      if (i === 250)
        task.update(250, { fields: { epoch: 1, validationAccuracy: 0.9 }, force: true });
    }
    task.finish({ testAccuracy: 0.95 });
    sink.log('saved');
    const events = parse(err.text());
    expect(events[0]).toEqual({ event: 'log', task: null, message: 'backend: cpu' });
    expect(events.at(-1)).toEqual({ event: 'log', task: null, message: 'saved' });
    const own = events.filter((e): e is ProgressEvent => e.event !== 'log');
    expect(own[0]).toMatchObject({
      event: 'start',
      task: 'train',
      done: 0,
      total: 500,
      unit: 'images',
      rate: 0,
      etaSeconds: null,
      elapsedSeconds: 0,
      epochs: 2,
      checkpoint: 'c.ckpt',
    });
    const progress = own.filter((e) => e.event === 'progress');
    // One a second (10 s of work) plus the forced one.
    expect(progress.length).toBeGreaterThanOrEqual(10);
    expect(progress.length).toBeLessThanOrEqual(11);
    for (let i = 1; i < own.length; i++)
      expect(own[i].done).toBeGreaterThanOrEqual(own[i - 1].done);
    for (const e of progress) {
      expect(e.rate).toBeCloseTo(50, 6);
      expect(e.etaSeconds).toBeCloseTo((500 - e.done) / 50, 1);
      expect(e.epochs).toBe(2); // the start's fields stay
      expect(typeof e.epoch).toBe('number');
    }
    expect(progress.find((e) => e.validationAccuracy === 0.9)).toMatchObject({
      done: 250,
      epoch: 1,
    });
    // An update's fields replace the previous update's: the epoch-end figure is not carried into epoch 2.
    expect(
      progress.filter((e) => e.done > 250).every((e) => e.validationAccuracy === undefined),
    ).toBe(true);
    expect(own.at(-1)).toMatchObject({
      event: 'done',
      done: 500,
      total: 500,
      etaSeconds: 0,
      elapsedSeconds: 10,
      testAccuracy: 0.95,
    });
    expect(own.filter((e) => e.event === 'done')).toHaveLength(1);
  });

  test('task fields cannot overwrite the counts; an interrupted task ends with an interrupted event', () => {
    const { err, clock, sink } = setup('json');
    const task = sink.task('audit', 10, 'attacks');
    clock.t += JSON_INTERVAL_MS;
    task.update(3, { fields: { done: 99, total: 1, event: 'x', attack: 'fgsm' } });
    task.interrupt({ signal: 'SIGTERM' });
    task.finish(); // ignored: the task has ended
    const events = parse(err.text()) as ProgressEvent[];
    expect(events.map((e) => e.event)).toEqual(['start', 'progress', 'interrupted']);
    expect(events[1]).toMatchObject({ done: 3, total: 10, attack: 'fgsm' });
    expect(events[2]).toMatchObject({ event: 'interrupted', done: 3, signal: 'SIGTERM' });
  });
});

test('off: no progress at all, messages still printed', () => {
  const { err, clock, sink } = setup('off');
  const task = sink.task('train', 10, 'images');
  clock.t += 5000;
  task.update(5, { force: true });
  sink.log('saved');
  task.finish();
  expect(err.writes).toEqual(['saved\n']);
});

test('auto: a bar on a terminal, plain lines in a file, in CI and on a dumb terminal', () => {
  const tty = { write: () => {}, isTTY: true };
  const file = { write: () => {} };
  expect(resolveProgressMode('auto', tty, {})).toBe('bar');
  expect(resolveProgressMode('auto', file, {})).toBe('plain');
  expect(resolveProgressMode('auto', tty, { CI: 'true' })).toBe('plain');
  expect(resolveProgressMode('auto', tty, { CI: 'false' })).toBe('bar');
  expect(resolveProgressMode('auto', tty, { TERM: 'dumb' })).toBe('plain');
  // An explicit mode is taken as asked.
  expect(resolveProgressMode('bar', file, { CI: '1' })).toBe('bar');
  expect(resolveProgressMode('json', tty, {})).toBe('json');
});
