// `hashguard audit --url …`: the black-box audit of a running server through its public API (HttpOracle),
// on a seeded test subset chosen as the local audit chooses it; writes JSON and Markdown atomically.
import { join } from 'node:path';
import { HttpOracle } from '../attacks/index.ts';
import { runRemoteAudit, type RemoteAttackId, remoteAuditMarkdown } from '../audit/index.ts';
import {
  CIFAR10_CLASSES,
  DATASET_NAMES,
  FASHION_MNIST_CLASSES,
  MNIST_CLASSES,
  type DatasetName,
} from '../data/index.ts';
import { loadDataset } from '../data/node.ts';
import { deriveStream, permutation, sha256Hex } from '../hash/index.ts';
import { writeFileAtomic } from '../io/index.ts';
import { gatherBatch } from '../nn/index.ts';
import { flags, number, requireString, UsageError } from './args.ts';
import { guardReport } from './output-guard.ts';
import { progressFromFlags } from './progress.ts';
import { newRunDir } from './run-dir.ts';
import { readEnv } from '../runtime/index.ts';

/** The remote audit's lines of `bun run audit --help`. */
export const remoteAuditUsage = `   or: bun run audit -- --url http://127.0.0.1:8080 --model NAME [--api-key K] [--n 100] [--eps 0.1,0.3]
  [--attacks square,hsj] [--max-queries 1000] [--budget N] [--dataset mnist|fashion-mnist|cifar10] [--seed 1] [--out DIR/NAME [--force]]
  (black-box, through the server's public API; --count is an alias of --n; env HASHGUARD_API_KEY for --api-key;
  without --out: runs/audit-remote-<model>-<UTC time>/<model>.{json,md})`;

/** Flags only the remote audit reads (the local audit refuses them). */
export const REMOTE_FLAGS = flags('url api-key count eps max-queries budget dataset');

/** The dataset whose class names the server reports, if it is one of the known ones. */
function datasetOf(classes: readonly string[]): DatasetName | null {
  const known: [DatasetName, readonly string[]][] = [
    ['mnist', MNIST_CLASSES],
    ['fashion-mnist', FASHION_MNIST_CLASSES],
    ['cifar10', CIFAR10_CLASSES],
  ];
  return (
    known.find(
      ([, c]) => c.length === classes.length && c.every((v, i) => v === classes[i]),
    )?.[0] ?? null
  );
}

/** "0.1,8/255" → [0.1, 0.0314…]. */
function epsList(raw: string): number[] {
  return raw.split(',').map((t) => {
    const [a, b] = t.trim().split('/');
    const v = b === undefined ? Number(a) : Number(a) / Number(b);
    if (!a || !Number.isFinite(v) || v < 0 || v > 1)
      throw new UsageError(`--eps: expected radii in [0, 1] (e.g. 0.3 or 8/255), got '${t}'`);
    return v;
  });
}

/** `audit --url`: connects, picks the dataset and subset, runs the audit and writes `<out>.json` and `<out>.md`. */
export async function remoteAuditCommand(
  argv: string[],
  v: Record<string, string | boolean | undefined>,
): Promise<void> {
  const url = requireString(v, 'url'),
    model = requireString(v, 'model');
  if (!/^https?:\/\//.test(url))
    throw new UsageError(`--url: expected http(s)://HOST:PORT, got '${url}'`);
  for (const local of ['dense', 'n-query', 'backend'])
    if (v[local] !== undefined)
      throw new UsageError(`--${local} applies to the local audit only (without --url)`);
  if (v.n !== undefined && v.count !== undefined && v.n !== v.count)
    throw new UsageError('--n and --count disagree (--count is an alias of --n)');
  const n = number(v, v.count !== undefined ? 'count' : 'n', 100, {
    integer: true,
    min: 1,
    max: 100000,
  });
  const seed = number(v, 'seed', 1, { integer: true, min: 0, max: 2 ** 32 - 1 });
  const maxQueries = number(v, 'max-queries', 1000, { integer: true, min: 2, max: 10000 });
  const budget =
    v.budget === undefined ? undefined : number(v, 'budget', 0, { integer: true, min: 1 });
  const attacks =
    typeof v.attacks === 'string' ? v.attacks.split(',').map((s) => s.trim()) : undefined;
  const unknown = attacks?.filter((a) => a !== 'square' && a !== 'hsj');
  if (unknown?.length)
    throw new UsageError(
      `--attacks: unknown ${unknown.join(', ')} (remote audits run square, hsj)`,
    );
  const apiKey =
    (v['api-key'] as string | undefined) ?? (readEnv('HASHGUARD_API_KEY') || undefined);
  if (typeof v.out === 'string') guardReport(v.out, ['.json', '.md'], Boolean(v.force));

  const oracle = await HttpOracle.connect({ url, model, apiKey, budget });
  if (attacks?.includes('square') && oracle.kind !== 'scores')
    throw new UsageError(
      `--attacks square: model '${model}' at ${url} serves labels only (run the server with --scores ${model}=probabilities, or use hsj)`,
    );
  const datasetName = (v.dataset as DatasetName | undefined) ?? datasetOf(oracle.info.classes);
  if (!datasetName)
    throw new UsageError(
      `--dataset: cannot tell the dataset from the server's classes (${oracle.info.classes.slice(0, 4).join(', ')}…); pass one of ${DATASET_NAMES.join(', ')}`,
    );
  if (!DATASET_NAMES.includes(datasetName))
    throw new UsageError(
      `--dataset: expected one of ${DATASET_NAMES.join(', ')}, got '${datasetName}'`,
    );
  const eps =
    typeof v.eps === 'string' ? epsList(v.eps) : [datasetName.startsWith('cifar') ? 8 / 255 : 0.3];
  const data = await loadDataset(datasetName, { seed });
  if (data.test.shape.join() !== oracle.inputShape.join())
    throw new UsageError(
      `--dataset ${datasetName}: images are [${data.test.shape.join(', ')}], the server's model takes [${oracle.inputShape.join(', ')}]`,
    );
  if (n > data.test.count)
    throw new UsageError(`--n ${n}: the test split has ${data.test.count} images`);
  // The same subset rule as the local audit: the first n of a seeded permutation, identified by its hash.
  const indices = permutation(deriveStream(seed, 0x61756474), data.test.count).slice(0, n); // 'audt'
  const indexSha256 = await sha256Hex(
    new Uint8Array(indices.buffer, indices.byteOffset, indices.byteLength),
  );
  const { x, y } = gatherBatch(data.test, indices, 0, n);
  const name = model.replace(/[^\w.-]/g, '_');
  const out = (v.out as string | undefined) ?? join(newRunDir(`audit-remote-${name}`), name);
  const sink = progressFromFlags(v);
  const report = await runRemoteAudit({
    oracle,
    url,
    x,
    y,
    eps,
    squareQueries: maxQueries,
    hsjQueries: maxQueries,
    attacks: attacks as RemoteAttackId[] | undefined,
    seed,
    dataset: datasetName,
    indexSha256,
    // The key is a secret: the recorded command never holds it.
    command: `bun run audit -- ${argv.map((a, i) => (argv[i - 1] === '--api-key' ? '***' : a.startsWith('--api-key=') ? '--api-key=***' : a)).join(' ')}`,
    progress: (line) => sink.log(line),
  });
  await writeFileAtomic(`${out}.json`, JSON.stringify(report, null, 1) + '\n');
  await writeFileAtomic(`${out}.md`, remoteAuditMarkdown(report));
  sink.log(
    `wrote ${out}.json, ${out}.md (${report.queries} server queries, ${(report.seconds / 60).toFixed(1)} min)${report.stopped ? `; stopped early: ${report.stopped}` : ''}`,
  );
}
