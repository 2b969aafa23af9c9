// The report's image grid: per configuration, the first image an adaptive attack broke, shown clean, adversarial
// and as the perturbation, each labelled with the true class and what the model predicted.
import type { AuditReport, ImageExample } from './report-types.ts';
import { pngDataUri } from './image-png.ts';
import { esc } from './report-format.ts';
import { configurationColor } from './svg-parts.ts';
import { datasetClasses } from './verdict.ts';

/** The grid of examples as <figure>s with PNG data: URIs (the page fetches nothing). */
export function imageGridHtml(r: AuditReport, examples: readonly ImageExample[]): string {
  const classes = datasetClasses(r.dataset);
  // Digits are their own names; other datasets show "3 cat".
  const cls = (k: number) =>
    classes && classes[k] !== String(k) ? `${k} ${classes[k] ?? ''}`.trim() : String(k);
  const figures = examples.map((e) => {
    const delta = e.adversarial.map((v, i) => v - e.clean[i]);
    const m = Math.max(1e-6, ...delta.map(Math.abs));
    const [, h, w] = e.shape;
    const img = (src: string, alt: string, caption: string) =>
      `<div class="shot"><img src="${src}" width="${w}" height="${h}" alt="${esc(alt)}"><span>${caption}</span></div>`;
    return (
      `<figure><figcaption><span class="swatch" style="background:${configurationColor(e.config)}"></span><strong>${esc(e.config)}</strong> · ${esc(e.attack)}</figcaption>` +
      `<div class="shots">` +
      img(
        pngDataUri(e.clean, e.shape),
        `clean image of class ${cls(e.label)}`,
        `clean<br>true <b>${esc(cls(e.label))}</b><br>predicted <b>${esc(cls(e.label))}</b>`,
      ) +
      img(
        pngDataUri(e.adversarial, e.shape),
        `adversarial image predicted ${cls(e.prediction)}`,
        `adversarial<br>true <b>${esc(cls(e.label))}</b><br>predicted <b class="wrong">${esc(cls(e.prediction))}</b>`,
      ) +
      img(
        pngDataUri(delta, e.shape, m),
        'perturbation',
        `perturbation<br>‖δ‖∞ ${m.toFixed(3)}<br>grey = 0`,
      ) +
      `</div></figure>`
    );
  });
  return `<div class="grid">${figures.join('')}</div>`;
}
