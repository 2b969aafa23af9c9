// `hashguard audit`: the robustness audit of a hashed model family (dense, hashed, hashed + each GI stage)
// under the paper-era and adaptive attacks, written as JSON, Markdown and a self-contained HTML page; with
// --url, the black-box audit of a running server instead (audit-remote.ts).
import { basename, dirname, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { loadDataset, type DatasetName } from '../data/index.ts';
import { writeFileAtomic } from '../io/files.ts';
import { loadModelDir } from '../io/model-dir.ts';
import { Sequential } from '../nn/sequential.ts';
import { CIFAR_BUDGETS, MNIST_BUDGETS, SUITE } from '../audit/attack-suite.ts';
import { auditHtml } from '../audit/report-html.ts';
import { auditMarkdown } from '../audit/report-markdown.ts';
import { runAudit } from '../audit/run-audit.ts';
import { choice, number, parse, requireString, UsageError } from './args.ts';
import { REMOTE_FLAGS, remoteAuditCommand, remoteAuditUsage } from './audit-remote.ts';
import { BACKEND_NAMES, useBackend } from './backend-flag.ts';
import { progressSink } from './progress.ts';

export const auditUsage = `usage: bun run audit -- --model models/HASHED [--dense models/DENSE] [--n 1000] [--n-query 100] [--seed 1]
  [--attacks ${SUITE.map((e) => e.id).join(',')}] [--out docs/audit/NAME] [--backend wasm|reference]
${remoteAuditUsage}`;

export async function auditCommand(argv: string[]): Promise<void> {
  const v = parse(argv, {
    model: { type: 'string' }, dense: { type: 'string' }, n: { type: 'string' }, 'n-query': { type: 'string' }, seed: { type: 'string' },
    attacks: { type: 'string' }, out: { type: 'string' }, backend: { type: 'string' }, ...REMOTE_FLAGS,
  });
  // --url: a running server, attacked through its public API only.
  if (v.url !== undefined) return remoteAuditCommand(argv, v);
  const remoteOnly = Object.keys(REMOTE_FLAGS).filter((k) => v[k] !== undefined);
  if (remoteOnly.length) throw new UsageError(`--${remoteOnly[0]} applies to the remote audit only (with --url)`);
  const hashedDir = requireString(v, 'model');
  const denseDir = (v.dense as string | undefined) ?? hashedDir.replace(/-h\d+(-.*)?$/, '');
  if (denseDir === hashedDir) throw new UsageError(`--dense: cannot infer the dense model from '${hashedDir}' (expected a name ending in -hN); pass --dense`);
  const n = number(v, 'n', 1000, { integer: true, min: 1, max: 100000 });
  const nQuery = number(v, 'n-query', 100, { integer: true, min: 1, max: 100000 });
  const seed = number(v, 'seed', 1, { integer: true, min: 0, max: 2 ** 32 - 1 });
  useBackend(choice(v, 'backend', BACKEND_NAMES, 'wasm'));
  const attacks = typeof v.attacks === 'string' ? v.attacks.split(',').map((s) => s.trim()) : undefined;
  const unknown = attacks?.filter((a) => !SUITE.some((e) => e.id === a));
  if (unknown?.length) throw new UsageError(`--attacks: unknown ${unknown.join(', ')} (known: ${SUITE.map((e) => e.id).join(', ')})`);
  const hashed = await loadModelDir(hashedDir);
  const dense = await loadModelDir(denseDir);
  if (hashed.manifest.defense?.stages.length) throw new UsageError(`--model ${hashedDir} is already defended: audit its undefended hashed model (the audit applies each GI stage itself)`);
  const datasetName = hashed.manifest.provenance.dataset.name as DatasetName;
  if (dense.manifest.provenance.dataset.name !== datasetName) throw new UsageError(`--dense ${denseDir} was trained on ${dense.manifest.provenance.dataset.name}, the hashed model on ${datasetName}`);
  const data = await loadDataset(datasetName, { seed: hashed.manifest.provenance.seed });
  if (n > data.test.count) throw new UsageError(`--n ${n}: the test split has ${data.test.count} images`);
  const family = basename(denseDir);
  const out = (v.out as string | undefined) ?? join('docs', 'audit', family);
  const sink = progressSink(process.stderr);
  const report = await runAudit({
    family, datasetName,
    dense: { name: dense.manifest.name, model: new Sequential(dense.manifest.input.shape, dense.manifest.layers, dense.tensors), weightsSha256: dense.manifest.weights.sha256 },
    hashed: { name: hashed.manifest.name, model: new Sequential(hashed.manifest.input.shape, hashed.manifest.layers, hashed.tensors), weightsSha256: hashed.manifest.weights.sha256 },
    test: data.test, n, nQuery, seed, budgets: datasetName.startsWith('cifar') ? CIFAR_BUDGETS : MNIST_BUDGETS, attacks,
    command: `bun run audit -- ${argv.join(' ')}`,
    progress: (line) => sink.log(line),
  });
  mkdirSync(dirname(out), { recursive: true });
  const md = auditMarkdown(report);
  await writeFileAtomic(`${out}.json`, JSON.stringify(report, null, 1) + '\n');
  await writeFileAtomic(`${out}.md`, md);
  await writeFileAtomic(`${out}.html`, auditHtml(report, md, report.examples));
  sink.log(`wrote ${out}.json, ${out}.md, ${out}.html (${(report.seconds / 60).toFixed(1)} min)`);
}
