// docs/walkthrough.md run as written: the lines of its ```sh walkthrough block (import a PyTorch-exported LeNet-5,
// convert, harden, audit, serve, query) run in order in a temporary directory, each checked by the entry of STEPS
// whose pattern matches it. Every line needs exactly one entry and every entry a line, so the doc cannot drift.
import { afterAll, describe, expect, test } from 'bun:test';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Subprocess } from 'bun';
import { noGrad } from '../../src/autodiff/grad.ts';
import { loadModelDir } from '../../src/io/index.ts';
import { gatherBatch } from '../../src/nn/batches.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { tempDir, removeTempDirs } from '../data/helpers.ts';
import { REPO_ROOT, testSplit } from '../helpers/committed-models.ts';
import { expectBatchesClose, ortRun, ortSession } from './parity-ort.ts';

/**
 * Floor for the hashed model's test accuracy after `convert` (full 10,000-image split, one thread, so the number
 * is reproducible). Measured: 94.84% after one epoch of fine-tuning, from 9.80% projected and 97.14% dense. The
 * floor sits 1.8 points under that: far above what a broken fine-tune leaves (the projection's 9.8%, or a run cut
 * short), close enough that losing a third of the recovery fails.
 */
const HASHED_ACCURACY_FLOOR = 0.93;
/** Imported logits against onnxruntime-node's on the original file, as test/onnx/parity.test.ts holds them. */
const ORT_REL = 1e-4;
const ORT_IMAGES = 8;

/** One command line of the block, split into words as a POSIX shell would (quotes, backslashes; no expansion). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '',
    inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unclosed ' in: ${line}`);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      const end = line.indexOf('"', i + 1);
      if (end < 0) throw new Error(`unclosed " in: ${line}`);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '\\') {
      word += line[++i] ?? '';
      inWord = true;
    } else if (c === ' ' || c === '\t') {
      if (inWord) words.push(word);
      ((word = ''), (inWord = false));
    } else if (c === '#' && !inWord) {
      break; // a comment runs to the end of the line
    } else {
      // NOTE: the test runs no shell, so anything a shell would interpret is refused rather than misread.
      if ('|;&<>$`(){}*?'.includes(c))
        throw new Error(`walkthrough: '${c}' needs a shell: ${line}`);
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** The command lines of the ```sh walkthrough block, continuation lines joined, comments and blanks dropped. */
function walkthroughCommands(markdown: string): string[][] {
  const block = /^```sh walkthrough\n([\s\S]*?)^```$/m.exec(markdown);
  if (!block) throw new Error('docs/walkthrough.md has no ```sh walkthrough block');
  return block[1]
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map(shellWords)
    .filter((w) => w.length > 0);
}

const DOC = readFileSync(join(REPO_ROOT, 'docs/walkthrough.md'), 'utf8');
const COMMANDS = walkthroughCommands(DOC);
const SCRIPTS: Record<string, string> = JSON.parse(
  readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'),
).scripts;
const work = tempDir('walkthrough');
afterAll(removeTempDirs);

/** `npm run NAME -- ARGS` as npm runs it: the package script's words (bun = this Bun, paths from the repo), ARGS. */
function npmArgv(words: string[]): string[] {
  expect(words.slice(0, 2)).toEqual(['npm', 'run']);
  const script = SCRIPTS[words[2]];
  if (!script) throw new Error(`package.json has no script '${words[2]}'`);
  expect(words[3]).toBe('--');
  const program = script
    .split(' ')
    .map((w) =>
      w === 'bun' ? process.execPath : existsSync(join(REPO_ROOT, w)) ? join(REPO_ROOT, w) : w,
    );
  return [...program, ...words.slice(4)];
}

/** Runs a command of the block in the work directory; returns its exit code, output and seconds. */
function runCli(words: string[]) {
  const t0 = performance.now();
  const p = Bun.spawnSync(npmArgv(words), {
    cwd: work,
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, REDIS_URL: '' },
  });
  const r = {
    code: p.exitCode,
    out: p.stdout.toString(),
    err: p.stderr.toString(),
    seconds: (performance.now() - t0) / 1000,
  };
  if (r.code !== 0) throw new Error(`${words.join(' ')} exited ${r.code}:\n${r.err.slice(-3000)}`);
  console.log(`walkthrough: ${words[2]} ${r.seconds.toFixed(1)} s`);
  return r;
}

const manifest = (dir: string) => JSON.parse(readFileSync(join(work, dir, 'model.json'), 'utf8'));
/** The value after `--flag` in a command. */
const flag = (words: string[], name: string) => words[words.indexOf(name) + 1];

/** The running server of the serve step: its process and base URL. */
let server: { proc: Subprocess<'ignore', 'pipe', 'pipe'>; url: string } | null = null;
afterAll(() => server?.proc.kill('SIGKILL'));

/** Reads stdout until a line matches (the server's banner). */
async function waitForLine(stream: ReadableStream<Uint8Array>, match: RegExp, ms: number) {
  const reader = stream.getReader(),
    decoder = new TextDecoder();
  let seen = '';
  const deadline = Date.now() + ms;
  try {
    while (Date.now() < deadline) {
      const { done, value } = await Promise.race([
        reader.read(),
        Bun.sleep(deadline - Date.now()).then(() => ({ done: true, value: undefined })),
      ]);
      if (done) break;
      seen += decoder.decode(value, { stream: true });
      const line = seen.split('\n').find((l) => match.test(l));
      if (line) return line;
    }
  } finally {
    reader.releaseLock();
  }
  throw new Error(`no line matching ${match} within ${ms} ms; output so far:\n${seen}`);
}

/** `curl -s [-X M] [-H 'k: v'] [--data-binary @FILE] URL` as fetch, against the server's real port. */
async function curl(words: string[]): Promise<unknown> {
  let method = 'GET',
    body: Blob | undefined,
    url = '';
  const headers: Record<string, string> = {};
  for (let i = 1; i < words.length; i++) {
    const w = words[i];
    if (w === '-s') continue;
    else if (w === '-X') method = words[++i];
    else if (w === '-H') {
      const [k, ...v] = words[++i].split(':');
      headers[k.trim()] = v.join(':').trim();
    } else if (w === '--data-binary') body = Bun.file(join(work, words[++i].replace(/^@/, '')));
    else if (w.startsWith('-')) throw new Error(`curl flag ${w} is not emulated here`);
    else url = w;
  }
  if (!server) throw new Error('curl before the serve step');
  // The doc's localhost:8080 is the server the serve step started on a free port.
  const res = await fetch(url.replace(/^(http:\/\/)?localhost:8080/, server.url), {
    method,
    headers,
    body,
  });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text);
}

interface Step {
  /** Matches the command line (words joined by spaces) this step checks. */
  match: RegExp;
  /** Seconds the step may take on a loaded 2-core machine (the whole walk-through takes about 80 s of one core). */
  timeoutS: number;
  run(words: string[]): Promise<void> | void;
}

const STEPS: Step[] = [
  {
    match: /^npm run import -- \S+\.onnx /,
    timeoutS: 120,
    async run(words) {
      const out = flag(words, '--out');
      const r = runCli(words);
      const m = manifest(out);
      // Same number on the same 10,000 images as PyTorch measured when it wrote the file.
      const torch = JSON.parse(
        readFileSync(join(REPO_ROOT, 'test/fixtures/onnx/manifest.json'), 'utf8'),
      ).files['lenet.onnx'].torchTestAccuracy;
      expect(m.metrics).toMatchObject({ testCount: 10000 });
      expect(Math.abs(m.metrics.testAccuracy - torch)).toBeLessThanOrEqual(0.001);
      expect(r.err).toContain(`saved ${out}: 13 layers from lenet.onnx (pytorch 1.13.0, opset 13`);
      expect(m.layers[0].type).toBe('affine'); // the graph's (x − mean) / std, kept so inputs stay in [0, 1]
      expect(m.input).toEqual({ shape: [1, 28, 28], range: [0, 1], background: 'dark' });
      // The imported weights beside onnxruntime-node on the original file (fixed batch 1: one image per run).
      const loaded = await loadModelDir(join(work, out));
      const model = new Sequential(
        loaded.manifest.input.shape,
        loaded.manifest.layers,
        loaded.tensors,
      );
      const mnist = await testSplit('mnist');
      const order = Uint32Array.from({ length: ORT_IMAGES }, (_, i) => i);
      const { x } = gatherBatch(mnist, order, 0, ORT_IMAGES);
      const ours = noGrad(() => model.forward(x)).data as Float32Array;
      const session = await ortSession(join(work, words[4]));
      const theirs = await ortRun(session, x.data as Float32Array, ORT_IMAGES, [1, 28, 28], 1);
      const worst = expectBatchesClose(ours, theirs, 10, 1, ORT_REL, 'imported lenet.onnx');
      console.log(
        `walkthrough: imported test accuracy ${m.metrics.testAccuracy} (PyTorch ${torch}), worst logit ratio vs onnxruntime ${worst.toExponential(2)}`,
      );
    },
  },
  {
    match: /^npm run convert -- /,
    timeoutS: 300,
    run(words) {
      const out = flag(words, '--out');
      const r = runCli(words);
      const m = manifest(out);
      const { testAccuracy, testCount, projectedTestAccuracy } = m.metrics;
      console.log(
        `walkthrough: hashed test accuracy ${testAccuracy} after ${flag(words, '--finetune-epochs')} epoch(s) (projected ${projectedTestAccuracy}, floor ${HASHED_ACCURACY_FLOOR})`,
      );
      expect(testCount).toBe(10000);
      expect(testAccuracy).toBeGreaterThanOrEqual(HASHED_ACCURACY_FLOOR);
      expect(projectedTestAccuracy).toBeLessThan(0.5); // the projection alone is near chance: fine-tuning did this
      expect(m.layers.filter((l: { type: string }) => l.type.startsWith('hashed-')).length).toBe(5);
      expect(m.provenance.convertedFrom.name).toBe(flag(words, '--from').split('/').pop());
      expect(r.err).toContain(`saved ${out}: test accuracy ${(100 * testAccuracy).toFixed(2)}%`);
    },
  },
  {
    match: /^npm run harden -- /,
    timeoutS: 180,
    run(words) {
      const out = flag(words, '--out');
      const r = runCli(words);
      const summary = JSON.parse(r.out);
      const m = manifest(out);
      const source = manifest(flag(words, '--model'));
      // The manifest records the defense: the stage given, on top of the named source's exact weights.
      expect(m.defense.stages).toEqual([
        { kind: 'random', alphaMin: 50, alphaMax: 150, noise: 0.05 },
      ]);
      expect(m.defense.source).toMatchObject({
        name: source.name,
        weightsSha256: source.weights.sha256,
        hashed: true,
      });
      expect(summary.stages).toEqual(m.defense.stages);
      // A random stage changes a few predictions, not the model's accuracy; it masks most gradients.
      expect(Math.abs(summary.testAccuracy - source.metrics.testAccuracy)).toBeLessThan(0.01);
      expect(summary.zeroGradientShare).toBeGreaterThan(0.5);
    },
  },
  {
    match: /^npm run audit -- /,
    timeoutS: 240,
    run(words) {
      const out = flag(words, '--out');
      runCli(words);
      for (const ext of ['.json', '.md', '.html'])
        expect(statSync(join(work, out + ext)).size).toBeGreaterThan(1000);
      const report = JSON.parse(readFileSync(join(work, `${out}.json`), 'utf8'));
      const names = ['dense', 'hashed', 'hashed+GI random'];
      expect(report.configurations.map((c: { name: string }) => c.name)).toEqual(names);
      expect(report.n).toBe(Number(flag(words, '--n')));
      const md = readFileSync(join(work, `${out}.md`), 'utf8');
      const html = readFileSync(join(work, `${out}.html`), 'utf8');
      for (const name of names) {
        expect(md).toContain(`| ${name} |`);
        expect(html).toContain(name);
      }
      // The honest verdict on GI random: FGSM reports it robust, EOT-PGD breaks it.
      const random = report.configurations[2];
      expect(random.stages).toEqual([{ kind: 'random', alphaMin: 50, alphaMax: 150, noise: 0.05 }]);
      expect(random.reportedRobustAccuracy).toBeGreaterThan(random.robustAccuracy);
      const attack = (id: string) =>
        random.attacks.find((a: { id: string }) => a.id === id) as { successRate: number };
      const eot = attack('eot-pgd');
      expect(eot.successRate).toBeGreaterThan(attack('fgsm').successRate);
      console.log(
        `walkthrough: audit GI random reported ${random.reportedRobustAccuracy}, robust ${random.robustAccuracy}, EOT-PGD success ${eot.successRate}`,
      );
    },
  },
  {
    match: /^npm run serve -- /,
    timeoutS: 60,
    async run(words) {
      // The doc's --port 8080 becomes a free port; the banner names it.
      const argv = npmArgv(words).map((w, i, a) => (a[i - 1] === '--port' ? '0' : w));
      const proc = Bun.spawn(argv, {
        cwd: work,
        stdin: 'ignore',
        stdout: 'pipe',
        stderr: 'pipe',
        env: { ...process.env, REDIS_URL: '' },
      });
      const line = await waitForLine(proc.stdout, /^hashguard serving /, 50_000);
      server = { proc, url: /at (http:\/\/[^ ]+)/.exec(line)![1] };
      expect(line).toContain(`serving ${flag(words, '--model').split('=')[0]} (`);
      expect(line).toContain('random GI');
    },
  },
  {
    match: /^curl .*:classify /,
    timeoutS: 30,
    async run(words) {
      const answer = (await curl(words)) as { label: number; class: string };
      expect(answer).toMatchObject({ label: 7, class: '7' });
    },
  },
  {
    match: /^curl -s \S+\/v2\/models\/[^/\s]+$/,
    timeoutS: 30,
    async run(words) {
      const meta = (await curl(words)) as { defense: { stages: unknown[] }; randomized: boolean };
      expect(meta.defense.stages).toEqual([
        { kind: 'random', alphaMin: 50, alphaMax: 150, noise: 0.05 },
      ]);
      expect(meta.randomized).toBe(true);
    },
  },
  {
    match: /^curl -s \S+\/robustness$/,
    timeoutS: 30,
    async run(words) {
      const r = (await curl(words)) as { configuration: string; audit: { family: string } };
      // The served weights and stages are exactly the audit's 'hashed+GI random' configuration.
      expect(r.configuration).toBe('hashed+GI random');
      expect(r.audit.family).toBe('my-lenet');
    },
  },
];

describe('docs/walkthrough.md', () => {
  test('every command of the block has exactly one check, and every check a command', () => {
    const used = COMMANDS.map((w) => STEPS.filter((s) => s.match.test(w.join(' '))));
    for (const [i, steps] of used.entries())
      expect(steps.length, `'${COMMANDS[i].join(' ')}' matches ${steps.length} checks`).toBe(1);
    for (const s of STEPS)
      expect(
        used.some((u) => u[0] === s),
        `no command matches ${s.match}`,
      ).toBe(true);
  });

  test("the README's 'Bring your own model' lists the same five commands", () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Bring your own model'));
    const block = /```sh\n([\s\S]*?)```/.exec(section);
    expect(block).not.toBeNull();
    const listed = block![1]
      .split('\n')
      .map(shellWords)
      .filter((w) => w.length > 0);
    expect(listed).toEqual(COMMANDS.filter((w) => w[0] === 'npm'));
  });

  // The inputs the commands name (the ONNX file, the sample digit) at the same relative paths.
  for (const words of COMMANDS)
    for (const w of words) {
      const rel = w.replace(/^@/, '');
      const src = join(REPO_ROOT, rel);
      if (!rel.startsWith('/') && existsSync(src) && statSync(src).isFile()) {
        mkdirSync(dirname(join(work, rel)), { recursive: true });
        copyFileSync(src, join(work, rel));
      }
    }

  for (const words of COMMANDS) {
    const step = STEPS.find((s) => s.match.test(words.join(' ')));
    test(
      words.join(' '),
      async () => {
        if (!step) throw new Error('no check for this command');
        await step.run(words);
      },
      (step?.timeoutS ?? 10) * 1000,
    );
  }

  test('the server stops on SIGTERM', async () => {
    expect(server).not.toBeNull();
    server!.proc.kill('SIGTERM');
    expect(await server!.proc.exited).toBe(0);
    server = null;
  }, 30_000);
});
