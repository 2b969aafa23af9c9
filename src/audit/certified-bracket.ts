// The lower side of the audit's bracket: which images of a configuration are certified (src/verify: no L∞
// perturbation within ε changes the answer), at the budget and over the ε sweep, and the check that binds the
// two sides, certified ≤ attacked: a certified image broken by any attack is a bug in the bounds or the attacks.
import type { ImageSet, Sequential } from '../nn/index.ts';
import { Tensor } from '../tensor/index.ts';
import { certify, randomStageCoverage, type BoundMethod } from '../verify/index.ts';
import { auditConfigurations, type AuditConfiguration } from './configurations.ts';
import { auditSubset } from './audit-subset.ts';
import type { AuditReport } from './report-types.ts';
import { ROBUST_SWEEP_FACTORS } from './audit-configuration.ts';
import type { Check, ConfigReport } from './report-types.ts';

export const BRACKET_CHECK = 'certified-never-broken';

/**
 * Per image of the first `count` rows of x: certified for its label at each radius of `radii` (ascending), as
 * the configuration answers. An image not certified at one radius is not tried at the larger ones and counts
 * as not certified there: conservative (it can only under-claim), and it spares the slowest bounds.
 */
export function certifiedVerdicts(
  cfg: AuditConfiguration,
  x: Tensor,
  labels: readonly number[],
  count: number,
  radii: readonly number[],
  method: BoundMethod,
): boolean[][] {
  const net = cfg.model.network;
  // Static stages are in the network's weights; a random stage is covered draw by draw (randomStageCoverage).
  const random = cfg.stages.find((s) => s.kind === 'random');
  const randomness = random ? randomStageCoverage(net, random.noise).randomness : {};
  const size = x.size / x.shape[0];
  const data = x.data as Float32Array;
  const out = radii.map(() => new Array<boolean>(count).fill(false));
  for (let i = 0; i < count; i++) {
    const xi = data.subarray(i * size, (i + 1) * size);
    for (let r = 0; r < radii.length; r++) {
      if (!certify(net, xi, labels[i], radii[r], [0, 1], randomness, { method }).certified) break;
      out[r][i] = true;
    }
  }
  return out;
}

/** A configuration's certified side, computed apart from its report (a distributed audit's certify job returns it). */
export interface CertifiedPart {
  method: BoundMethod;
  /** Per image of the subset, '1' where certified at the budget. */
  certified: string;
  certifiedSweep: { eps: number; certifiedAccuracy: number }[];
  seconds: number;
}

/** Certifies the subset: the query subset over the sweep's radii (ascending, the budget among them), the rest at the budget. */
export function certifyConfiguration(
  cfg: AuditConfiguration,
  subset: { x: Tensor; labels: readonly number[]; n: number; nq: number },
  budget: number,
  method: BoundMethod,
): CertifiedPart {
  const t0 = performance.now();
  const radii = ROBUST_SWEEP_FACTORS.map((f) => budget * f);
  const swept = certifiedVerdicts(cfg, subset.x, subset.labels, subset.nq, radii, method);
  const at = ROBUST_SWEEP_FACTORS.indexOf(1);
  const rest =
    subset.n > subset.nq
      ? certifiedVerdicts(
          cfg,
          rowsFrom(subset.x, subset.nq),
          subset.labels.slice(subset.nq),
          subset.n - subset.nq,
          [budget],
          method,
        )[0]
      : [];
  const certified = [...swept[at], ...rest];
  return {
    method,
    certified: certified.map((c) => (c ? '1' : '0')).join(''),
    certifiedSweep: radii.map((eps, r) => ({
      eps,
      certifiedAccuracy: swept[r].filter(Boolean).length / subset.nq,
    })),
    seconds: (performance.now() - t0) / 1000,
  };
}

/** The report with its certified side and the bracket check (replacing an earlier one). */
export function applyCertificates(report: ConfigReport, part: CertifiedPart): ConfigReport {
  const out: ConfigReport = {
    ...report,
    certifiedMethod: part.method,
    certifiedAccuracy: [...part.certified].filter((c) => c === '1').length / part.certified.length,
    certified: part.certified,
    certifiedSweep: part.certifiedSweep,
    certifySeconds: part.seconds,
  };
  out.checks = [...report.checks.filter((c) => c.id !== BRACKET_CHECK), bracketCheck(out)];
  return out;
}

/**
 * The report with its certified side: certified accuracy over all n images at the budget, the certified sweep
 * on the first nQuery images at the robust sweep's ε values, and the bracket check (replacing an earlier one).
 */
export function withCertificates(
  report: ConfigReport,
  cfg: AuditConfiguration,
  subset: { x: Tensor; labels: readonly number[]; n: number; nq: number },
  budget: number,
  method: BoundMethod,
): ConfigReport {
  return applyCertificates(report, certifyConfiguration(cfg, subset, budget, method));
}

/**
 * certified ≤ attacked, image by image: every certified image is clean-correct and broken by none of the L∞
 * attacks (all run within the budget), and at every ε of the sweep certified accuracy is at most robust accuracy.
 */
export function bracketCheck(c: ConfigReport): Check {
  const certified = [...(c.certified ?? '')].map((b) => b === '1');
  const problems: string[] = [];
  if (c.cleanCorrect) {
    const wrong = certified.filter((v, i) => v && c.cleanCorrect![i] !== '1').length;
    if (wrong) problems.push(`${wrong} certified images are not clean-correct`);
  }
  for (const a of c.attacks) {
    if ((a.norm ?? 'linf') !== 'linf' || !a.broken) continue;
    const hit = certified.filter((v, i) => v && a.broken![i] === '1').length;
    if (hit) problems.push(`${a.id} broke ${hit} certified images`);
  }
  if (
    c.certifiedAccuracy !== undefined &&
    c.robustAccuracy !== undefined &&
    c.certifiedAccuracy > c.robustAccuracy + 1e-12
  )
    problems.push(
      `certified ${pct(c.certifiedAccuracy)} exceeds robust ${pct(c.robustAccuracy)} at the budget`,
    );
  c.certifiedSweep?.forEach((p, i) => {
    const r = c.robustSweep?.[i];
    if (r && Math.abs(r.eps - p.eps) < 1e-12 && p.certifiedAccuracy > r.robustAccuracy + 1e-12)
      problems.push(
        `at ε ${p.eps.toFixed(4)} certified ${pct(p.certifiedAccuracy)} exceeds robust ${pct(r.robustAccuracy)}`,
      );
  });
  const n = certified.filter(Boolean).length;
  const attacked = c.attacks.filter((a) => (a.norm ?? 'linf') === 'linf' && a.broken).length;
  return {
    id: BRACKET_CHECK,
    pass: problems.length === 0,
    evidence: problems.length
      ? `certified ≤ attacked violated: ${problems.join('; ')}`
      : attacked
        ? `${n} images certified (${c.certifiedMethod}); none broken by the ${attacked} L∞ attacks, and certified ≤ robust at the budget and at every ε of the sweep`
        : `${n} images certified (${c.certifiedMethod}); this report keeps no per-image attack verdicts, so certified ≤ robust is checked on the shares: at the budget and at every ε of the sweep`,
  };
}

/** The rows of x from `start` on (a view, no copy). */
function rowsFrom(x: Tensor, start: number): Tensor {
  const size = x.size / x.shape[0];
  return new Tensor(
    [x.shape[0] - start, ...x.shape.slice(1)],
    (x.data as Float32Array).subarray(start * size),
  );
}

/**
 * A finished report with the certified side added to every configuration: the configurations are rebuilt from
 * the same models (checked by weights sha256) exactly as the audit built them, on the same seeded subset.
 */
export async function certifyReport(
  report: AuditReport,
  models: { dense: Sequential; hashed: Sequential; denseAt?: Sequential; hashedAt?: Sequential },
  test: ImageSet,
  method: BoundMethod,
  log: (line: string) => void = () => {},
): Promise<AuditReport> {
  const subset = await auditSubset(test, report.seed, report.n, report.nQuery);
  if (subset.indexSha256 !== report.indexSha256)
    throw new Error(
      `audit: this test split does not give the report's image subset (indexSha256 differs)`,
    );
  const configs = auditConfigurations(
    models.dense,
    models.hashed,
    report.hashed.name,
    0,
    report.magnitude?.eps ?? 0,
    {
      ...(models.denseAt ? { dense: models.denseAt } : {}),
      ...(models.hashedAt && report.hashedAt
        ? { hashed: { model: models.hashedAt, name: report.hashedAt.name } }
        : {}),
    },
  );
  const configurations = report.configurations.map((c, i) => {
    // Certificates by this method were computed on the same models (the caller checks their hashes) and the
    // same subset (checked above): kept as they are, so adding certificates to a merged report certifies only
    // the parts that had none.
    if (c.certifiedMethod === method && c.certified !== undefined) {
      log(
        `[${i + 1}/${report.configurations.length}] ${c.name}: certified accuracy ${pct(c.certifiedAccuracy!)} (${method}), kept from the report`,
      );
      return c;
    }
    const cfg = configs.find((k) => k.name === c.name);
    if (!cfg)
      throw new Error(`audit: cannot rebuild configuration '${c.name}' from the models given`);
    const out = withCertificates(
      c,
      cfg,
      { x: subset.x, labels: subset.labels, n: report.n, nq: subset.nq },
      report.budgets.linf,
      method,
    );
    log(
      `[${i + 1}/${report.configurations.length}] ${c.name}: certified accuracy ${pct(out.certifiedAccuracy!)} (${method}, ${out.certifySeconds!.toFixed(0)} s); ${out.checks.at(-1)!.evidence}`,
    );
    return out;
  });
  return { ...report, configurations };
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
