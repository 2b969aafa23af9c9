// An audit as its command-line flags describe it: the flags themselves, and the models loaded and checked, the
// data split and the budgets they name. The audit command, its shards and a distributed audit's workers (which
// rebuild the coordinator's audit from its flags) all start here.
import { basename, dirname, join } from 'node:path';
import type { DatasetName } from '../data/index.ts';
import { loadModelDir } from '../io/index.ts';
import { inputBackground, Sequential } from '../nn/index.ts';
import {
  adversarialMethod,
  budgetsAtEps,
  CIFAR_BUDGETS,
  CONFIGURATION_KEYS,
  CONFIGURATION_NAMES,
  DEFAULT_CERTIFY,
  MNIST_BUDGETS,
  NAMED_SUITES,
  SUITE,
  type AuditInput,
  type AuditModel,
  type Budgets,
} from '../audit/index.ts';
import { BOUND_METHODS } from '../verify/index.ts';
import {
  flags,
  choice,
  number,
  radius,
  requireString,
  UsageError,
  type FlagValues,
} from './args.ts';
import { splitValidation } from './adversarial-flags.ts';
import { REMOTE_FLAGS } from './audit-remote.ts';
import { BACKEND_NAMES, useBackend } from './backend-flag.ts';
import { dataOptions, modelData } from './data-flags.ts';
import { progressOptions } from './progress.ts';

/** The audit's flags (the local and the remote audit's, and a distributed audit's). */
export const AUDIT_FLAGS = {
  ...flags(
    'model dense dense-at hashed-at n n-query seed attacks suite out backend configurations merge checkpoint cascade-chunk certify add-certificates block queue queue-name shard merge-shards',
    'force resume',
  ),
  ...REMOTE_FLAGS,
  ...dataOptions,
  ...progressOptions,
} as const;

/** An audit's input as its flags describe it (models loaded and checked, data split, budgets), without callbacks. */
export async function auditInputFromFlags(
  v: FlagValues,
  log: (line: string) => void,
): Promise<{ input: Omit<AuditInput, 'command'>; hashedDir: string }> {
  const certify = choice(v, 'certify', [...BOUND_METHODS, 'off'] as const, DEFAULT_CERTIFY);
  const hashedDir = requireString(v, 'model');
  const denseDir = (v.dense as string | undefined) ?? hashedDir.replace(/-h\d+(-.*)?$/, '');
  if (denseDir === hashedDir)
    throw new UsageError(
      `--dense: cannot infer the dense model from '${hashedDir}' (expected a name ending in -hN); pass --dense`,
    );
  const n = number(v, 'n', 1000, { integer: true, min: 1, max: 100000 });
  const nQuery = number(v, 'n-query', 100, { integer: true, min: 1, max: 100000 });
  const seed = number(v, 'seed', 1, { integer: true, min: 0, max: 2 ** 32 - 1 });
  const eps = radius(v, 'eps');
  // Given only when asked for: a checkpoint records it among its settings, so a resume must name the same.
  const cascadeChunk =
    v['cascade-chunk'] === undefined
      ? undefined
      : number(v, 'cascade-chunk', 100, { integer: true, min: 1, max: 100000 });
  useBackend(choice(v, 'backend', BACKEND_NAMES, 'wasm'));
  const attacks =
    typeof v.attacks === 'string' ? v.attacks.split(',').map((s) => s.trim()) : undefined;
  const unknown = attacks?.filter((a) => !SUITE.some((e) => e.id === a));
  if (unknown?.length)
    throw new UsageError(
      `--attacks: unknown ${unknown.join(', ')} (known: ${SUITE.map((e) => e.id).join(', ')})`,
    );
  const suite = v.suite as string | undefined;
  const unknownSuite = suite
    ?.split(',')
    .map((s) => s.trim())
    .find((s) => !NAMED_SUITES[s]);
  if (unknownSuite !== undefined)
    throw new UsageError(
      `--suite: unknown '${unknownSuite}' (known: ${Object.keys(NAMED_SUITES).join(', ')})`,
    );
  const keys =
    typeof v.configurations === 'string'
      ? v.configurations.split(',').map((s) => s.trim())
      : undefined;
  const badKeys = keys?.filter((k) => !CONFIGURATION_KEYS.includes(k));
  if (badKeys?.length || keys?.length === 0)
    throw new UsageError(
      `--configurations: unknown '${badKeys?.join(', ') ?? ''}' (known: ${CONFIGURATION_KEYS.join(', ')})`,
    );
  const configurations = keys?.map((k) => CONFIGURATION_NAMES[CONFIGURATION_KEYS.indexOf(k)]);
  const denseAtDir = v['dense-at'] as string | undefined,
    hashedAtDir = v['hashed-at'] as string | undefined;
  if (keys?.some((k) => k === 'dense-at') && denseAtDir === undefined)
    throw new UsageError(
      '--configurations dense-at needs the adversarially trained dense model: pass --dense-at',
    );
  if (keys?.some((k) => k.startsWith('hashed-at')) && hashedAtDir === undefined)
    throw new UsageError(
      `--configurations ${keys.filter((k) => k.startsWith('hashed-at')).join(',')} needs the adversarially trained hashed model: pass --hashed-at`,
    );
  const hashed = await loadModelDir(hashedDir);
  const dense = await loadModelDir(denseDir);
  if (hashed.manifest.defense?.stages.length)
    throw new UsageError(
      `--model ${hashedDir} is already defended: audit its undefended hashed model (the audit applies each GI stage itself)`,
    );
  const datasetName = hashed.manifest.provenance.dataset.name as DatasetName;
  if (dense.manifest.provenance.dataset.name !== datasetName)
    throw new UsageError(
      `--dense ${denseDir} was trained on ${dense.manifest.provenance.dataset.name}, the hashed model on ${datasetName}`,
    );
  // The adversarially trained models stand beside the others: same data, inputs and classes, and no GI of their
  // own (the audit applies GI random to the hashed one itself).
  const companion = async (flag: string, dir: string | undefined) => {
    if (dir === undefined) return undefined;
    const m = await loadModelDir(dir);
    if (m.manifest.provenance.dataset.name !== datasetName)
      throw new UsageError(
        `--${flag} ${dir} was trained on ${m.manifest.provenance.dataset.name}, the hashed model on ${datasetName}`,
      );
    if (JSON.stringify(m.manifest.input.shape) !== JSON.stringify(hashed.manifest.input.shape))
      throw new UsageError(
        `--${flag} ${dir} takes inputs of shape [${m.manifest.input.shape}], the hashed model [${hashed.manifest.input.shape}]`,
      );
    if (JSON.stringify(m.manifest.classes) !== JSON.stringify(hashed.manifest.classes))
      throw new UsageError(`--${flag} ${dir} has other classes than the hashed model`);
    if (m.manifest.defense?.stages.length)
      throw new UsageError(`--${flag} ${dir} is already defended: give its undefended model`);
    if (!adversarialMethod(m.manifest.provenance))
      log(
        `note: --${flag} ${dir} records no adversarial training (provenance.adversarial); audited as given`,
      );
    return m;
  };
  const denseAt = await companion('dense-at', denseAtDir);
  const hashedAt = await companion('hashed-at', hashedAtDir);
  // A folder the hashed model never saw is all test; one it was trained on is split as its provenance says.
  const { data, folder } = await modelData(
    v,
    { dir: hashedDir, manifest: hashed.manifest },
    { seed: hashed.manifest.provenance.seed, allByDefault: true, log: (l) => log(l) },
  );
  // Budgets follow the data: MNIST's for named MNIST-family data and for dark-background folders, else CIFAR-10's.
  const mnistLike = folder
    ? inputBackground(hashed.manifest) === 'dark'
    : !datasetName.startsWith('cifar');
  if (n > data.test.count)
    throw new UsageError(`--n ${n}: the test split has ${data.test.count} images`);
  const held = splitValidation(data.train, null);
  const atEps = (b: Budgets) => (eps === undefined ? b : budgetsAtEps(b, eps));
  const block =
    v.block === undefined
      ? undefined
      : number(v, 'block', 100, { integer: true, min: 1, max: 100000 });
  return {
    hashedDir,
    input: {
      family: basename(denseDir),
      datasetName,
      dense: auditModel(dense),
      hashed: auditModel(hashed),
      ...(denseAt ? { denseAt: auditModel(denseAt) } : {}),
      ...(hashedAt ? { hashedAt: auditModel(hashedAt) } : {}),
      sources: await convertSources([
        [hashedDir, hashed],
        [denseDir, dense],
        [denseAtDir, denseAt],
        [hashedAtDir, hashedAt],
      ]),
      test: data.test,
      validation: held.validation ?? undefined,
      validationRecord: held.record ?? undefined,
      n,
      nQuery,
      seed,
      budgets: atEps(mnistLike ? MNIST_BUDGETS : CIFAR_BUDGETS),
      attacks,
      suite,
      configurations,
      ...(cascadeChunk === undefined ? {} : { cascadeChunk }),
      ...(v.certify === undefined ? {} : { certify }),
      ...(block === undefined ? {} : { block }),
    },
  };
}

type Loaded = Awaited<ReturnType<typeof loadModelDir>>;

/** A loaded model directory as the audit takes it. */
export function auditModel(m: Loaded): AuditModel {
  return {
    name: m.manifest.name,
    model: new Sequential(m.manifest.input.shape, m.manifest.layers, m.tensors),
    weightsSha256: m.manifest.weights.sha256,
    provenance: m.manifest.provenance,
  };
}

/**
 * The source models of converted models (provenance.convertedFrom), for training costs: looked for beside the
 * converted model (DIR/../NAME) and used only when its weights sha256 is the recorded one; followed up to 4 deep.
 */
async function convertSources(
  models: [string | undefined, Loaded | undefined][],
): Promise<NonNullable<AuditInput['sources']>> {
  const found: NonNullable<AuditInput['sources']> = [];
  const queue = models
    .filter((e): e is [string, Loaded] => Boolean(e[0] && e[1]))
    .map(([dir, m]) => ({ dir, m, depth: 0 }));
  while (queue.length) {
    const { dir, m, depth } = queue.shift()!;
    const from = m.manifest.provenance.convertedFrom as
      { name?: unknown; weightsSha256?: unknown } | undefined;
    if (
      !from ||
      typeof from.name !== 'string' ||
      typeof from.weightsSha256 !== 'string' ||
      depth >= 4
    )
      continue;
    if (
      found.some((s) => s.weightsSha256 === from.weightsSha256) ||
      models.some(([, l]) => l?.manifest.weights.sha256 === from.weightsSha256)
    )
      continue;
    const srcDir = join(dirname(dir), from.name);
    let src: Loaded;
    try {
      src = await loadModelDir(srcDir);
    } catch {
      continue; // not at hand: the cost is reported as a lower bound
    }
    if (src.manifest.weights.sha256 !== from.weightsSha256) continue;
    found.push({
      name: src.manifest.name,
      weightsSha256: from.weightsSha256,
      provenance: src.manifest.provenance,
    });
    queue.push({ dir: srcDir, m: src, depth: depth + 1 });
  }
  return found;
}
