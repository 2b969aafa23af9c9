// The README's "Defend your model" example is examples/defend.ts, character for character, and it runs and says
// what the README says: GI on the hashed model falls to PGD-CW, the adversarially trained one holds.
import { expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dir, '..');

/** The first ```ts block after the heading `## Defend your model`. */
function readmeBlock(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf('\n## Defend your model\n');
  expect(at).toBeGreaterThan(0);
  const start = readme.indexOf('```ts\n', at) + '```ts\n'.length;
  return readme.slice(start, readme.indexOf('```', start));
}

test('the README block equals examples/defend.ts after its header comment', () => {
  const file = readFileSync(join(ROOT, 'examples/defend.ts'), 'utf8');
  expect(readmeBlock()).toBe(file.slice(file.indexOf('import ')));
  // About ten lines, as the README promises.
  expect(readmeBlock().trim().split('\n').length).toBeLessThanOrEqual(12);
});

test('examples/defend.ts runs: GI alone is broken, adversarial training holds', () => {
  const p = Bun.spawnSync([process.execPath, 'examples/defend.ts'], {
    cwd: ROOT,
    stdout: 'pipe',
    stderr: 'pipe',
  });
  expect(p.stderr.toString()).toBe('');
  expect(p.exitCode).toBe(0);
  const out = p.stdout.toString();
  const rate = (dir: string) =>
    Number(new RegExp(`${dir} \\+ GI scale: PGD-CW breaks ([0-9.]+)%`).exec(out)![1]);
  expect(rate('models/mnist-cnn-h8')).toBeGreaterThanOrEqual(95);
  expect(rate('models/mnist-cnn-h8-at')).toBeLessThanOrEqual(20);
  // The numbers the README quotes.
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  expect(readme).toContain(`\`PGD-CW breaks ${rate('models/mnist-cnn-h8').toFixed(1)}%\``);
  expect(readme).toContain(`\`${rate('models/mnist-cnn-h8-at').toFixed(1)}%\``);
}, 120_000);
