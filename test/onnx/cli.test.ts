// `hashguard export` and `hashguard import` as a user runs them: export a committed model, refuse to overwrite it
// without --force, refuse a random GI stage; import it back into a model directory that `eval` scores; provenance,
// class names, external data confined to the model's folder, and the size limit checked before reading.
import { describe, expect, test } from 'bun:test';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { decodeOnnxModel, encodeOnnxModel } from '../../src/onnx/index.ts';
import { ProtoWriter } from '../../src/onnx/protobuf-writer.ts';

const root = join(import.meta.dir, '../..');
const main = join(root, 'src/cli/main.ts');
const dir = mkdtempSync(join(tmpdir(), 'hg-onnx-cli-'));

function run(...args: string[]) {
  const p = Bun.spawnSync([process.execPath, main, ...args], {
    stdout: 'pipe',
    stderr: 'pipe',
    cwd: root,
  });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}
const manifest = (m: string) => JSON.parse(readFileSync(join(m, 'model.json'), 'utf8'));

describe('export', () => {
  const out = join(dir, 'lenet-h8.onnx');

  test('writes the file, then refuses to replace it without --force', () => {
    const r = run('export', '--model', 'models/mnist-lenet5-h8', '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('5 hashed layers expanded to dense');
    const first = readFileSync(out);
    expect(decodeOnnxModel(first).graph.node.map((n) => n.opType)).toContain('Conv');
    const again = run('export', '--model', 'models/mnist-lenet5-h8', '--out', out);
    expect(again.code).toBe(1);
    expect(again.err).toBe(`error: ${out} already exists; pass --force to replace it\n`);
    expect(run('export', '--model', 'models/mnist-lenet5', '--out', out, '--force').code).toBe(0);
    expect(readFileSync(out).equals(first)).toBe(false);
  }, 30_000);

  test('a model with a random GI stage is refused, and nothing is written', () => {
    const r = run('export', '--model', 'models/mnist-lenet5-h8-gi', '--out', join(dir, 'gi.onnx'));
    expect(r.code).toBe(1);
    expect(r.err).toContain("the 'random' gradient-inhibition stage draws fresh logit scales");
    expect(() => readFileSync(join(dir, 'gi.onnx'))).toThrow();
  }, 30_000);
});

describe('import', () => {
  test('an exported model comes back as a model directory that eval scores', () => {
    const file = join(dir, 'mlp.onnx');
    expect(run('export', '--model', 'models/mnist-mlp', '--out', file).code).toBe(0);
    const m = join(dir, 'mlp');
    const r = run('import', file, '--out', m, '--dataset', 'mnist', '--name', 'mlp-back');
    expect(r.code, r.err).toBe(0);
    const got = manifest(m);
    const source = manifest(join(root, 'models/mnist-mlp'));
    expect(got.name).toBe('mlp-back');
    expect(got.layers).toEqual(source.layers);
    expect(got.metrics.testAccuracy).toBeCloseTo(source.metrics.testAccuracy, 3);
    expect(got.input).toEqual({ shape: [1, 28, 28], range: [0, 1], background: 'dark' });
    expect(got.provenance.onnx).toMatchObject({
      file: 'mlp.onnx',
      sha256: createHash('sha256').update(readFileSync(file)).digest('hex'),
      producer: 'hashguard',
      opset: 13,
      output: 'logits',
    });
    const e = run('eval', '--model', m, '--limit', '500', '--threads', '1');
    expect(e.code, e.err).toBe(0);
    expect(JSON.parse(e.out).testAccuracy).toBeGreaterThan(0.9);
    // Without --force the directory is not replaced.
    expect(run('import', file, '--out', m).code).toBe(1);
  }, 120_000);

  test("without --dataset: --classes names, an unmeasured metric, dataset 'unknown'; class count and input shape checked", () => {
    const file = join(dir, 'small.onnx');
    expect(run('export', '--model', 'models/mnist-lenet5', '--out', file).code).toBe(0);
    const m = join(dir, 'named');
    const names = 'zero,one,two,three,four,five,six,seven,eight,nine';
    const r = run(
      'import',
      file,
      '--out',
      m,
      '--classes',
      names,
      '--background',
      'light',
      '--normalize',
      '0,1',
    );
    expect(r.code, r.err).toBe(0);
    const got = manifest(m);
    expect(got.classes).toEqual(names.split(','));
    expect(got.metrics).toEqual({ testAccuracy: 0, testCount: 0, measured: false });
    expect(got.provenance.dataset).toEqual({ name: 'unknown', sha256: '' });
    expect(got.input.background).toBe('light');
    // Commands that need its data say how to name it.
    const convert = run('convert', '--from', m, '--compression', '1/8', '--out', join(dir, 'n-h8'));
    expect(convert.code).toBe(2);
    expect(convert.err).toContain(
      `${m} records dataset 'unknown', not one of mnist, fashion-mnist, cifar10, cifar10-jpeg, synthetic: give its images as --data DIR, or import it again with --dataset NAME if it was trained on one of them`,
    );
    const bad = run('import', file, '--out', join(dir, 'bad'), '--classes', 'a,b');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('2 class names given, the model has 10 outputs');
    const shape = run('import', file, '--out', join(dir, 'bad'), '--input-shape', '3,28,28');
    expect(shape.code).toBe(1);
    expect(shape.err).toContain(
      "graph input 'x' is [N, 1, 28, 28], but inputShape says [3, 28, 28]",
    );
  }, 60_000);

  test('external data is read beside the model only; a file over 512 MB is refused before reading', () => {
    const base = decodeOnnxModel(readFileSync(join(dir, 'small.onnx')));
    const ext = join(dir, 'ext');
    mkdirSync(ext);
    writeFileSync(join(dir, 'outside.bin'), new Uint8Array(64));
    symlinkSync(join(dir, 'outside.bin'), join(ext, 'link.bin'));
    // The first initializer moved to an external file at `location`.
    const withExternal = (location: string) => {
      const [t, ...rest] = base.graph.initializer;
      const bytes = encodeOnnxModel({ ...base, graph: { ...base.graph, initializer: rest } });
      const tp = new ProtoWriter().repeatedInts(1, t.dims).int(2, t.dataType).string(8, t.name);
      tp.message(13, new ProtoWriter().string(1, 'location').string(2, location)).int(14, 1);
      const extra = new ProtoWriter().message(7, new ProtoWriter().message(5, tp)).done();
      return { bytes: Uint8Array.from([...bytes, ...extra]), data: t.data as Float32Array };
    };
    const good = withExternal('weights.bin');
    writeFileSync(join(ext, 'good.onnx'), good.bytes);
    writeFileSync(join(ext, 'weights.bin'), new Uint8Array(good.data.buffer));
    expect(run('import', join(ext, 'good.onnx'), '--out', join(dir, 'ext-model')).code).toBe(0);
    for (const [location, why] of [
      ['../outside.bin', "must be a relative path without '..'"],
      ['link.bin', "resolves outside the model's folder"],
      ['missing.bin', 'file not found beside'],
    ]) {
      writeFileSync(join(ext, 'bad.onnx'), withExternal(location).bytes);
      const r = run('import', join(ext, 'bad.onnx'), '--out', join(dir, 'ext-bad'));
      expect(r.code).toBe(1);
      expect(r.err).toContain(why);
    }
    const huge = join(dir, 'huge.onnx');
    const fd = openSync(huge, 'w');
    closeSync(fd);
    Bun.spawnSync(['truncate', '-s', String(513 * 2 ** 20), huge]); // sparse: no disk, no read
    const r = run('import', huge, '--out', join(dir, 'huge'));
    expect(r.code).toBe(1);
    expect(r.err).toContain('is over the 512 MB limit');
  }, 60_000);

  test('--help prints the usage of both commands', () => {
    expect(run('import', '--help').out).toStartWith(
      'usage: bun run import -- MODEL.onnx --out models/NAME',
    );
    expect(run('export', '-h').out).toStartWith(
      'usage: bun run export -- --model models/NAME --out MODEL.onnx',
    );
  }, 30_000);
});
