// Joins part reports of one audit (the same models, images, seed and budgets, each run over some of the
// configurations in its own process, side by side on a multi-core machine) into the report a single run writes.
import { CONFIGURATION_NAMES } from './configurations.ts';
import { blackBoxChecks } from './black-box-check.ts';
import type { AuditReport, ConfigReport } from './report-types.ts';

/** The fields every part must share: a merge of audits over different models, images or budgets is refused. */
const SHARED = [
  'format',
  'family',
  'dataset',
  'weightsSha256',
  'n',
  'nQuery',
  'seed',
  'indexSha256',
  'verdictQueries',
] as const;

export function mergeAuditReports(parts: readonly AuditReport[], command: string): AuditReport {
  if (parts.length === 0) throw new Error('merge: no part reports given');
  const [first] = parts;
  for (const [i, p] of parts.entries()) {
    for (const key of SHARED) {
      if (p[key] !== first[key])
        throw new Error(
          `merge: part ${i + 1} has ${key} ${JSON.stringify(p[key])}, part 1 has ${JSON.stringify(first[key])}`,
        );
    }
    if (JSON.stringify(p.budgets) !== JSON.stringify(first.budgets))
      throw new Error(`merge: part ${i + 1} has other budgets than part 1`);
    if (p.dense.weightsSha256 !== first.dense.weightsSha256)
      throw new Error(`merge: part ${i + 1} audits another dense model than part 1`);
  }
  // The adversarially trained models: every part given one must have been given the same one (a part that
  // audits only the undefended configurations may have run without it).
  const atModel = (key: 'denseAt' | 'hashedAt', flag: string) => {
    const given = parts.map((p, i) => [p[key], i] as const).filter(([m]) => m);
    for (const [m, i] of given) {
      if (m!.weightsSha256 !== given[0][0]!.weightsSha256)
        throw new Error(
          `merge: part ${i + 1} audits another ${flag} model (${m!.name}) than part ${given[0][1] + 1} (${given[0][0]!.name})`,
        );
    }
    return given[0]?.[0];
  };
  const denseAt = atModel('denseAt', '--dense-at');
  const hashedAt = atModel('hashedAt', '--hashed-at');
  const seen = new Map<string, number>();
  for (const [i, p] of parts.entries()) {
    for (const c of p.configurations) {
      if (seen.has(c.name))
        throw new Error(
          `merge: configuration '${c.name}' is in part ${seen.get(c.name)! + 1} and part ${i + 1}`,
        );
      seen.set(c.name, i);
    }
  }
  const order = (name: string) => CONFIGURATION_NAMES.indexOf(name);
  const configurations = parts
    .flatMap((p) => p.configurations)
    .map(recheck)
    .sort((a, b) => order(a.name) - order(b.name));
  const examples = parts
    .flatMap((p) => p.examples)
    .sort((a, b) => order(a.config) - order(b.config));
  // Only the part that audited magnitude GI calibrated it.
  const magnitude = parts.find((p) => p.magnitude)?.magnitude;
  // A part whose certificates were added afterwards keeps that command beside its own; the merged report
  // itself was not certified by one command, so it takes no certifyCommand from the first part.
  const { certifyCommand: _, ...shared } = first;
  return {
    ...shared,
    command,
    date: parts
      .map((p) => p.date)
      .sort()
      .at(-1)!,
    ...(magnitude ? { magnitude } : {}),
    ...(denseAt ? { denseAt } : {}),
    ...(hashedAt ? { hashedAt } : {}),
    configurations,
    examples,
    // Compute time of all parts together; each part's own command and time are kept beside it.
    seconds: parts.reduce((s, p) => s + p.seconds, 0),
    parts: parts.map((p) => ({
      command: p.command,
      ...(p.certifyCommand ? { certifyCommand: p.certifyCommand } : {}),
      configurations: p.configurations.map((c) => c.name),
      seconds: p.seconds,
    })),
  };
}

/**
 * The black-box check is a function of the per-image records a part stores, so a merge judges it as the current
 * audit does (parts written when it compared success rates only are brought to the per-image rule).
 */
function recheck(c: ConfigReport): ConfigReport {
  const at = c.checks.findIndex((k) => k.id === 'black-box-not-better');
  if (at < 0) return c;
  const rest = c.checks.filter((k) => !k.id.startsWith('black-box-not-better'));
  return { ...c, checks: [...rest.slice(0, at), ...blackBoxChecks(c.attacks), ...rest.slice(at)] };
}
