// The "black box beats white box" masking checks (AutoAttack's Square check), judged per image and per threat
// model: images a black-box attack breaks that no white-box gradient attack of the same norm broke.
import type { AttackSummary, CascadeSummary, Check } from './report-types.ts';

/** Attacks that never read the audited model's gradient (transfer reads the dense model's). */
export const BLACK_BOX_IDS: readonly string[] = ['square', 'transfer', 'hsj'];
/** A cascade with a black-box component (AutoAttack's standard version ends with Square): judged by its components. */
const CASCADE_WITH_SQUARE = 'autoattack';
/**
 * Share of a black-box attack's images it alone breaks above which the gradients are flagged as masked.
 * AutoAttack flags Square lowering robust accuracy by more than 0.2 pp; on the 100-image query subset one image
 * is already 1 pp, so there one stray image passes and two flag. The cascade, on all n images, uses 0.2 pp.
 */
export const BLACK_BOX_ONLY_LIMIT = 0.01;
export const CASCADE_SQUARE_LIMIT = 0.002;

type Norm = 'linf' | 'l2' | 'l0';
const normOf = (a: AttackSummary): Norm =>
  a.norm ?? (a.id === 'jsma' ? 'l0' : ['cw', 'cw-logits', 'hsj'].includes(a.id) ? 'l2' : 'linf');
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

/**
 * One check per threat model the audit runs a black-box attack in: `black-box-not-better` for L∞ (the robust
 * accuracy's) and `black-box-not-better-l2`. Each compares every black-box attack with the white-box attacks of
 * its norm on the images it ran on (the first `n`), by the per-image `broken` bits; reports written before those
 * were recorded fall back to success rates, and say so. AutoAttack's cascade adds its own rule: what its Square
 * broke after APGD-CE, APGD-T and FAB-T, over all n images.
 */
export function blackBoxChecks(attacks: readonly AttackSummary[]): Check[] {
  return (['linf', 'l2'] as const).map((norm) => check(attacks, norm));
}

function check(attacks: readonly AttackSummary[], norm: 'linf' | 'l2'): Check {
  const id = norm === 'linf' ? 'black-box-not-better' : 'black-box-not-better-l2';
  const parts: string[] = [];
  let pass = true;
  const white = attacks.filter(
    (a) => !BLACK_BOX_IDS.includes(a.id) && a.id !== CASCADE_WITH_SQUARE && normOf(a) === norm,
  );
  for (const bb of attacks.filter((a) => BLACK_BOX_IDS.includes(a.id) && normOf(a) === norm)) {
    const on = white.filter((w) => w.n >= bb.n);
    if (on.length === 0) {
      parts.push(`${bb.id}: no white-box ${norm} attack ran on its images`);
      continue;
    }
    if (bb.broken === undefined || on.some((w) => w.broken === undefined)) {
      const best = Math.max(...on.map((w) => w.successRate));
      pass &&= bb.successRate <= best + BLACK_BOX_ONLY_LIMIT;
      parts.push(
        `${bb.id} ${pct(bb.successRate)} vs best white-box ${pct(best)} (success rates only: no per-image record; flag above ${pct(BLACK_BOX_ONLY_LIMIT)} more)`,
      );
      continue;
    }
    let only = 0;
    for (let i = 0; i < bb.n; i++)
      if (bb.broken[i] === '1' && on.every((w) => w.broken![i] !== '1')) only++;
    pass &&= only / bb.n <= BLACK_BOX_ONLY_LIMIT;
    parts.push(
      `${bb.id} alone breaks ${only} of ${bb.n} (${pct(only / bb.n)}, flag above ${pct(BLACK_BOX_ONLY_LIMIT)}; it breaks ${pct(bb.successRate)} in all) beyond ${on.length} white-box attacks`,
    );
  }
  const aa = norm === 'linf' ? attacks.find((a) => a.id === CASCADE_WITH_SQUARE) : undefined;
  const square =
    aa && 'cascade' in aa
      ? (aa as CascadeSummary).cascade.components.find((c) => c.name.startsWith('Square'))
      : undefined;
  if (aa && square) {
    pass &&= square.broken / aa.n <= CASCADE_SQUARE_LIMIT;
    parts.push(
      `AutoAttack's Square breaks ${square.broken} of ${aa.n} (${pct(square.broken / aa.n)}, flag above ${pct(CASCADE_SQUARE_LIMIT)}) after its white-box components`,
    );
  }
  if (parts.length === 0) return { id, pass: true, evidence: `no black-box ${norm} attack run` };
  return { id, pass, evidence: parts.join('; ') };
}
