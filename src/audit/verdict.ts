// The report's opening paragraph, generated from its numbers: at the budget ε, which configurations keep robust
// accuracy above chance under the worst-case adaptive attack, which fall to 0 (and from which ε of the sweep),
// what the paper-era attacks would have reported instead, the certified accuracy, and the masking flags.
import { CIFAR10_CLASSES, FASHION_MNIST_CLASSES, MNIST_CLASSES } from '../data/index.ts';
import type { AuditReport, ConfigReport } from './report-types.ts';
import { epsText, esc, missing, pct } from './report-format.ts';

/** Class names of a report's dataset, or null for a dataset the audit does not know. */
export function datasetClasses(dataset: string): readonly string[] | null {
  if (dataset === 'mnist') return MNIST_CLASSES;
  if (dataset === 'fashion-mnist') return FASHION_MNIST_CLASSES;
  if (dataset.startsWith('cifar10')) return CIFAR10_CLASSES;
  return null;
}

/** The budget ε as text: k/255 beside the decimal where it is one (CIFAR-10's 8/255). */
export function budgetText(eps: number): string {
  const k = eps * 255;
  const frac = Math.abs(k - Math.round(k)) < 1e-6 && eps < 0.1 ? `${Math.round(k)}/255 ≈ ` : '';
  return `${frac}${epsText(eps)}`;
}

const name = (c: ConfigReport) => `<strong>${esc(c.name)}</strong>`;
/** "a", "a and b", "a, b and c". */
function list(items: string[]): string {
  return items.length < 2
    ? (items[0] ?? '')
    : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** A configuration's robust accuracy at the budget: the report's, or (older reports) clean × unbroken share. */
function robustAt(c: ConfigReport): { value: number; estimated: boolean } {
  if (!missing(c.robustAccuracy)) return { value: c.robustAccuracy, estimated: false };
  return {
    value: c.cleanAccuracy * (1 - c.adaptiveWorstCase.query.successRate),
    estimated: true,
  };
}

/** The verdict paragraph (HTML, names in bold), from the report's data alone. */
export function verdictHtml(r: AuditReport): string {
  const eps = budgetText(r.budgets.linf);
  const classes = datasetClasses(r.dataset);
  const chance = classes ? 1 / classes.length : null;
  const cfgs = r.configurations;
  const estimated = cfgs.some((c) => robustAt(c).estimated);
  const scope = estimated
    ? `the first ${r.nQuery} images; robust accuracy ≈ clean accuracy × the share of correct images no adaptive attack broke`
    : `${r.n} test images`;
  const S: string[] = [];
  S.push(
    `At the L∞ budget ε = ${eps} (${esc(r.dataset)}, ${scope}), under the per-image worst case over every adaptive attack:`,
  );
  const fallen = cfgs.filter((c) => robustAt(c).value === 0);
  const holds = cfgs.filter(
    (c) => robustAt(c).value > 0 && (chance === null || robustAt(c).value > chance),
  );
  const weak = cfgs.filter((c) => !fallen.includes(c) && !holds.includes(c));
  const show = (c: ConfigReport) =>
    `${name(c)} (${estimated ? '≈ ' : ''}${pct(robustAt(c).value)})`;
  const clauses: string[] = [];
  if (holds.length)
    clauses.push(
      `${list(holds.map(show))} ${holds.length > 1 ? 'keep' : 'keeps'} robust accuracy above ${chance === null ? '0' : `chance (${Math.round(100 * chance)}%)`}`,
    );
  if (weak.length)
    clauses.push(`${list(weak.map(show))} ${weak.length > 1 ? 'fall' : 'falls'} below chance`);
  if (fallen.length)
    clauses.push(`${list(fallen.map(name))} ${fallen.length > 1 ? 'fall' : 'falls'} to 0%`);
  S[0] += ` ${list(clauses)}.`;
  // Where the sweep shows it: the smallest ε at which each fallen configuration already reaches 0.
  const zeroAt = new Map<string, ConfigReport[]>();
  for (const c of fallen) {
    const p = c.robustSweep?.find((q) => q.eps > 0 && q.robustAccuracy === 0);
    if (p && p.eps < r.budgets.linf - 1e-12) {
      const key = epsText(p.eps);
      zeroAt.set(key, [...(zeroAt.get(key) ?? []), c]);
    }
  }
  if (zeroAt.size === 1 && [...zeroAt.values()][0].length === fallen.length)
    S.push(
      `In the ε sweep ${fallen.length > 1 ? 'those' : 'it'} already ${fallen.length > 1 ? 'reach' : 'reaches'} 0% at ε ${[...zeroAt.keys()][0]}.`,
    );
  else if (zeroAt.size)
    S.push(
      `In the ε sweep ${list([...zeroAt].map(([e, cs]) => `${list(cs.map(name))} already ${cs.length > 1 ? 'reach' : 'reaches'} 0% at ε ${e}`))}.`,
    );
  // What an evaluation with the paper's attacks would have said: the masked configurations.
  const overstated = cfgs.filter((c) => {
    const reported = !missing(c.reportedRobustAccuracy)
      ? c.reportedRobustAccuracy
      : c.paperAverage === null
        ? null
        : c.cleanAccuracy * (1 - c.paperAverage);
    return reported !== null && reported - robustAt(c).value >= 0.2;
  });
  if (overstated.length) {
    // The first mention says what the number is; the rest only give theirs.
    const reportedText = (c: ConfigReport, i: number) =>
      !missing(c.reportedRobustAccuracy)
        ? `${pct(c.reportedRobustAccuracy)}${i === 0 ? ' robust accuracy' : ''} for ${name(c)}`
        : `${i === 0 ? 'an average success of only ' : ''}${pct(c.paperAverage)} against ${name(c)}`;
    S.push(
      `The paper-era attacks would have reported ${list(overstated.map(reportedText))}: the difference is gradient masking, not robustness.`,
    );
  }
  const certified = cfgs.filter((c) => !missing(c.certifiedAccuracy));
  if (certified.length) {
    const best = certified.reduce((a, b) => (b.certifiedAccuracy! > a.certifiedAccuracy! ? b : a));
    const method = [...new Set(certified.map((c) => c.certifiedMethod ?? 'bound'))].join(', ');
    S.push(
      best.certifiedAccuracy! > 0
        ? `Certified accuracy (${esc(method)}) at the budget: ${list(certified.filter((c) => c.certifiedAccuracy! > 0).map((c) => `${name(c)} ${pct(c.certifiedAccuracy)}`))}${certified.some((c) => c.certifiedAccuracy === 0) ? ', 0% for the others' : ''}.`
        : `No configuration is certified at the budget (${esc(method)}: 0% for all ${certified.length}).`,
    );
  }
  const flagged = cfgs.filter((c) => c.checks.some((k) => !k.pass));
  S.push(
    flagged.length
      ? `The gradient-masking checks flag ${flagged.length === cfgs.length ? 'every configuration' : list(flagged.map(name))} (see “Gradient-masking checks”).`
      : 'No gradient-masking check flags any configuration.',
  );
  return `<p class="verdict">${S.join(' ')}</p>`;
}
