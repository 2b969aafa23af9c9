// The gradient-masking checks (Carlini et al. 2019, "On Evaluating Adversarial Robustness", arXiv:1902.06705;
// AutoAttack's flags) as HTML: a check × configuration matrix of pass / flag badges, then each configuration's
// checks with their evidence.
import type { AuditReport } from './report-types.ts';
import { htmlTable } from './html-table.ts';
import { esc } from './report-format.ts';
import { configurationColor } from './svg-parts.ts';

/** What each check asks, in one line (ids as masking-checks.ts and black-box-check.ts write them). */
export const CHECK_MEANING: Record<string, string> = {
  'zero-gradients': 'few inputs have an exactly-zero input gradient (else gradients are masked)',
  'iterative-beats-single-step': 'iterative PGD succeeds at least as often as single-step FGSM',
  'monotone-in-eps': 'success grows with ε',
  'unbounded-reaches-100': 'an unbounded attack breaks every image',
  'black-box-not-better': 'black-box L∞ attacks break almost nothing the white-box ones missed',
  'black-box-not-better-l2': 'the same in L2 (HopSkipJump against C&W-L2)',
  'randomness-needs-eot':
    'a randomized model is attacked with EOT (flagged: randomness found, EOT run)',
  'certified-never-broken': 'no certified image is broken, and certified ≤ robust at every ε',
};

const badge = (pass: boolean) =>
  pass ? '<span class="badge pass">pass</span>' : '<span class="badge flag">flag</span>';

/** The checks section: the matrix, then per configuration each check's badge, id and evidence. */
export function checksHtml(r: AuditReport): string {
  const cfgs = r.configurations;
  const ids = [...new Set(cfgs.flatMap((c) => c.checks.map((k) => k.id)))];
  const matrix = htmlTable({
    head: ['check', ...cfgs.map((c) => c.name)],
    rows: ids.map((id) => [
      { html: `<code>${esc(id)}</code>` },
      ...cfgs.map((c) => {
        const k = c.checks.find((q) => q.id === id);
        return { html: k ? badge(k.pass) : '—' };
      }),
    ]),
  });
  const meaning = `<ul class="meanings">${ids
    .filter((id) => CHECK_MEANING[id])
    .map((id) => `<li><code>${esc(id)}</code>: ${esc(CHECK_MEANING[id])}</li>`)
    .join('')}</ul>`;
  const lists = cfgs
    .map(
      (c) =>
        `<h3><span class="swatch" style="background:${configurationColor(c.name)}"></span>${esc(c.name)}</h3><ul class="checks">` +
        c.checks
          .map((k) => `<li>${badge(k.pass)} <code>${esc(k.id)}</code>: ${esc(k.evidence)}</li>`)
          .join('') +
        '</ul>',
    )
    .join('');
  return matrix + meaning + lists;
}
