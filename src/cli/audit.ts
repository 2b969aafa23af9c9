// `hashguard audit`: the robustness audit of a hashed model family (dense, hashed, hashed + each GI stage, and
// the adversarially trained dense / hashed models when given) under the paper-era and adaptive attacks, written
// as JSON, Markdown and a self-contained HTML page; with --url, the black-box audit of a running server instead
// (audit-remote.ts).
import { basename, dirname, join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { loadDataset } from '../data/node.ts';
import { DATASET_NAMES, type DatasetName } from '../data/index.ts';
import { loadModelDir } from '../io/index.ts';
import { inputBackground, Sequential } from '../nn/index.ts';
import { splitValidation } from './adversarial-flags.ts';
import { writeAuditReport as writeReport } from './report-files.ts';
import {
  budgetsAtEps,
  CIFAR_BUDGETS,
  MNIST_BUDGETS,
  NAMED_SUITES,
  SUITE,
  type Budgets,
  CONFIGURATION_KEYS,
  CONFIGURATION_NAMES,
  mergeAuditReports,
  type AuditReport,
  runAudit,
  type AuditInput,
  type AuditModel,
  adversarialMethod,
  certifyReport,
  DEFAULT_CERTIFY,
} from '../audit/index.ts';
import { BOUND_METHODS } from '../verify/index.ts';
import { choice, number, parse, radius, requireString, UsageError } from './args.ts';
import { dataOptions, modelData, modelDataUsage } from './data-flags.ts';
import { REMOTE_FLAGS, remoteAuditCommand, remoteAuditUsage } from './audit-remote.ts';
import { BACKEND_NAMES, useBackend } from './backend-flag.ts';
import { guardReport } from './output-guard.ts';
import {
  progressFromFlags,
  progressOptions,
  progressUsage,
  type ProgressTask,
} from './progress.ts';
import { listenForStop, resumeCommand, Stopped, STOPPED_EXIT_CODE } from './stop.ts';
import { newRunDir } from './run-dir.ts';
import { setExitCode, standardError } from '../runtime/index.ts';
import {
  loadAuditCheckpoint,
  removeAuditCheckpoint,
  saveAuditCheckpoint,
} from './audit-checkpoint.ts';

/** The files of one report: <out>.json, .md and .html. */
const REPORT_FILES = ['.json', '.md', '.html'] as const;

export const auditUsage = `usage: bun run audit -- --model models/HASHED [--dense models/DENSE] [--n 1000] [--n-query 100] [--seed 1]
  [--eps E]   (the L∞ budget, e.g. 0.1 or 8/255; default: 0.3 for MNIST-family data, 8/255 for CIFAR-10; the PGD step scales with it;
    with --data: 0.3 for a model whose input background is dark, else 8/255)
${modelDataUsage('1: every image')}
  [--dense-at models/DENSE-AT] [--hashed-at models/HASHED-AT]   (adversarially trained models: add the 'dense AT',
    'hashed AT' and 'hashed AT+GI random' configurations; same dataset, input shape and classes, undefended)
  [--attacks ${SUITE.map((e) => e.id).join(',')}] [--out DIR/NAME [--force]] [--backend wasm|reference]
  [--suite ${Object.keys(NAMED_SUITES).join('|')}[,...]]   (named suites, with any --attacks; autoattack: AutoAttack's
    standard cascade on deterministic configurations, its rand version over EOT(20) on randomized ones;
    default,autoattack: the whole adaptive set plus the cascades, as the committed audits run)
  [--configurations ${CONFIGURATION_KEYS.join(',')}]   (a part report: run parts side by side, then --merge)
  [--checkpoint PATH] [--resume]   (after every attack the audit's progress is saved atomically, by default to
    checkpoints/audit-NAME.json; --resume, with the same flags and --out, continues a stopped run with the same numbers;
    Ctrl-C or SIGTERM stops after the attack under way, once its progress is saved, prints the --resume command and
    exits 130: no report is written until the audit is whole)
  [--cascade-chunk 100]   (the AutoAttack cascades attack this many images at a time, with a checkpoint after each)
  [--certify ${BOUND_METHODS.join('|')}|off]   (the certified side of the bracket, default ${DEFAULT_CERTIFY}: each
    configuration's certified accuracy beside its robust accuracy, over the ε sweep too, and the check that no
    certified image was broken)
       bun run audit -- --merge PART.json,PART.json,... --out DIR/NAME [--force]
       bun run audit -- --add-certificates REPORT.json [--certify METHOD] --out DIR/NAME [--force]
    (the certified side added to a finished report: its models are loaded from models/NAME and checked by sha256)
  Writes NAME.json, NAME.md and NAME.html. Without --out: a new folder runs/audit-<model>-<UTC time>/ (the
  report named after the family); an --out whose files exist is refused before any work unless --force.
${progressUsage}
${remoteAuditUsage}`;

export async function auditCommand(argv: string[]): Promise<void> {
  const v = parse(argv, {
    model: { type: 'string' },
    dense: { type: 'string' },
    'dense-at': { type: 'string' },
    'hashed-at': { type: 'string' },
    n: { type: 'string' },
    'n-query': { type: 'string' },
    seed: { type: 'string' },
    attacks: { type: 'string' },
    suite: { type: 'string' },
    out: { type: 'string' },
    backend: { type: 'string' },
    configurations: { type: 'string' },
    merge: { type: 'string' },
    force: { type: 'boolean' },
    checkpoint: { type: 'string' },
    resume: { type: 'boolean' },
    'cascade-chunk': { type: 'string' },
    certify: { type: 'string' },
    'add-certificates': { type: 'string' },
    ...REMOTE_FLAGS,
    ...dataOptions,
    ...progressOptions,
  });
  // --url: a running server, attacked through its public API only.
  if (v.url !== undefined && v.suite !== undefined)
    throw new UsageError('--suite applies to the local audit only (without --url)');
  if (v.url !== undefined) return remoteAuditCommand(argv, v);
  const force = Boolean(v.force);
  if (v.merge !== undefined)
    return mergeCommand(argv, v.merge as string, requireString(v, 'out'), force);
  const certify = choice(v, 'certify', [...BOUND_METHODS, 'off'] as const, DEFAULT_CERTIFY);
  if (v['add-certificates'] !== undefined) {
    if (certify === 'off') throw new UsageError('--add-certificates needs a --certify method');
    return addCertificatesCommand(
      argv,
      v,
      v['add-certificates'] as string,
      requireString(v, 'out'),
      force,
      certify,
    );
  }
  // --eps is shared: the remote audit's list of radii, the local audit's one L∞ budget.
  const remoteOnly = Object.keys(REMOTE_FLAGS).filter((k) => k !== 'eps' && v[k] !== undefined);
  if (remoteOnly.length)
    throw new UsageError(`--${remoteOnly[0]} applies to the remote audit only (with --url)`);
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
  if (v.resume && typeof v.out !== 'string' && v.checkpoint === undefined)
    throw new UsageError('--resume: give the --out (or --checkpoint) of the run to continue');
  if (typeof v.out === 'string') guardReport(v.out, REPORT_FILES, force);
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
  const sink = progressFromFlags(v);
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
      sink.log(
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
    { seed: hashed.manifest.provenance.seed, allByDefault: true, log: (l) => sink.log(l) },
  );
  // Budgets follow the data: MNIST's for named MNIST-family data and for dark-background folders, else CIFAR-10's.
  const mnistLike = folder
    ? inputBackground(hashed.manifest) === 'dark'
    : !datasetName.startsWith('cifar');
  if (n > data.test.count)
    throw new UsageError(`--n ${n}: the test split has ${data.test.count} images`);
  const family = basename(denseDir);
  // A fresh folder per run: the committed reports in docs/audit/ are replaced only by an explicit --out --force.
  const out =
    (v.out as string | undefined) ?? join(newRunDir(`audit-${basename(hashedDir)}`), family);
  const checkpoint =
    (v.checkpoint as string | undefined) ?? join('checkpoints', `audit-${basename(out)}.json`);
  if (!v.resume && !force && existsSync(checkpoint))
    throw new UsageError(
      `${checkpoint} holds an unfinished audit: continue it with --resume, or start over with --force`,
    );
  const resume = v.resume ? await loadAuditCheckpoint(checkpoint) : undefined;
  sink.log(`writing ${out}.{json,md,html} when done; progress after every attack in ${checkpoint}`);
  const held = splitValidation(data.train, null);
  const atEps = (b: Budgets) => (eps === undefined ? b : budgetsAtEps(b, eps));
  let task: ProgressTask | null = null;
  const stop = listenForStop(sink, 'after the attack under way, once its progress is saved');
  const audit = runAudit({
    family,
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
    command: `bun run audit -- ${argv.join(' ')}`,
    progress: (line) => sink.log(line),
    onAttack: (p) => {
      const fields = { configuration: p.configuration, attack: p.attack };
      if (!task) task = sink.task('audit', p.total, 'attacks', { done: p.done, fields });
      else
        task.update(p.done, {
          fields,
          detail: `${p.configuration}: ${p.attack} done`,
          force: true,
        });
    },
    resume,
    // A signal stops the audit right after a checkpoint: nothing done since is lost.
    checkpoint: async (p) => {
      await saveAuditCheckpoint(checkpoint, p);
      stop.check();
    },
  });
  const report = await audit.catch((e: unknown) => {
    stop.dispose();
    if (e instanceof Stopped) {
      const t = task as ProgressTask | null; // assigned in onAttack, which TypeScript cannot follow
      t?.interrupt({ signal: e.signal, checkpoint });
      // Without --out the run's folder is new: the resume must name it.
      const extra = v.out === undefined && v.checkpoint === undefined ? ['--out', out] : [];
      sink.log(
        `interrupted by ${e.signal}: the audit's progress is saved in ${checkpoint} (no report written yet); ` +
          `continue with: ${resumeCommand('audit', argv, extra)}`,
      );
    }
    throw e;
  });
  // The report's three files are written whole: a signal from here on waits for them.
  await writeReport(out, report);
  removeAuditCheckpoint(checkpoint);
  stop.dispose();
  (task as ProgressTask | null)?.finish({ out, seconds: Math.round(report.seconds) });
  sink.log(`wrote ${out}.json, ${out}.md, ${out}.html (${(report.seconds / 60).toFixed(1)} min)`);
  if (stop.signal) setExitCode(STOPPED_EXIT_CODE);
}

type Loaded = Awaited<ReturnType<typeof loadModelDir>>;

/** A loaded model directory as the audit takes it. */
function auditModel(m: Loaded): AuditModel {
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

/** A report file, read and checked to be an audit report (errors name the file and what is wrong). */
function readReport(file: string, flag: string): AuditReport {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`${flag}: cannot read ${file}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${flag}: ${file} is not JSON (truncated or corrupt?)`);
  }
  const r = parsed as Partial<AuditReport>;
  if (r.format !== 1 || !Array.isArray(r.configurations) || typeof r.indexSha256 !== 'string')
    throw new UsageError(`${flag}: ${file} is not an audit report`);
  return r as AuditReport;
}

/**
 * --add-certificates: the certified side of the bracket added to a finished report. Its models are the ones it
 * names, from models/NAME, refused unless their weights sha256 is the one the report recorded.
 */
async function addCertificatesCommand(
  argv: string[],
  v: Record<string, unknown>,
  file: string,
  out: string,
  force: boolean,
  method: (typeof BOUND_METHODS)[number],
): Promise<void> {
  const report = readReport(file, '--add-certificates');
  guardReport(out, REPORT_FILES, force);
  const load = async (ref: { name: string; weightsSha256: string } | undefined) => {
    if (!ref) return undefined;
    const m = auditModel(await loadModelDir(join('models', ref.name)));
    if (m.weightsSha256 !== ref.weightsSha256)
      throw new UsageError(
        `--add-certificates: models/${ref.name} is not the model the report audited (weights sha256 differs)`,
      );
    return m.model;
  };
  const [dense, hashed, denseAt, hashedAt] = await Promise.all([
    load(report.dense),
    load(report.hashed),
    load(report.denseAt),
    load(report.hashedAt),
  ]);
  const sink = progressFromFlags(v);
  // A named dataset by its name; an image folder (or --data) through the hashed model, as the audit read it.
  const hashedDir = join('models', report.hashed.name);
  const named =
    v.data === undefined && (DATASET_NAMES as readonly string[]).includes(report.dataset);
  const hashedManifest = named ? null : (await loadModelDir(hashedDir)).manifest;
  const { data } = hashedManifest
    ? await modelData(
        v,
        { dir: hashedDir, manifest: hashedManifest },
        { seed: hashedManifest.provenance.seed, allByDefault: true, log: (l) => sink.log(l) },
      )
    : { data: await loadDataset(report.dataset as DatasetName) };
  const certified = await certifyReport(
    report,
    {
      dense: dense!,
      hashed: hashed!,
      ...(denseAt ? { denseAt } : {}),
      ...(hashedAt ? { hashedAt } : {}),
    },
    data.test,
    method,
    (line) => sink.log(line),
  );
  await writeReport(out, { ...certified, certifyCommand: `bun run audit -- ${argv.join(' ')}` });
  sink.log(`wrote ${out}.json, ${out}.md, ${out}.html`);
}

/** --merge: part reports (each from --configurations) joined into one report, rendered like a single run's. */
async function mergeCommand(
  argv: string[],
  list: string,
  out: string,
  force: boolean,
): Promise<void> {
  const files = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (files.length === 0) throw new UsageError('--merge: give the part reports, comma-separated');
  const parts = files.map((file) => readReport(file, '--merge'));
  let report: AuditReport;
  try {
    report = mergeAuditReports(parts, `bun run audit -- ${argv.join(' ')}`);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  // After the parts are checked (a bad part is the first thing to hear about), before anything is written.
  guardReport(out, REPORT_FILES, force);
  await writeReport(out, report);
  standardError().write(
    `wrote ${out}.json, ${out}.md, ${out}.html (${report.configurations.length} configurations from ${parts.length} parts)\n`,
  );
}
