// The committed audit reports in a real browser, at a phone's width (375 px) and a desktop's (1280 px): nothing
// logged as an error, nothing requested but the page itself, every chart's axes labelled, no two chart labels
// overlapping, no sideways scrolling of the page on a phone (wide tables scroll inside their wrapper), and a
// screenshot of each under test-artifacts/screenshots/.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import {
  assertClean,
  BROWSER_TIMEOUT_MS,
  describeBrowser,
  launchBrowser,
  newCheckedPage,
  saveScreenshot,
  startTestServer,
  type TestServer,
} from './browser.ts';

const DOCS = join(import.meta.dir, '../../docs/audit');
function pages(d: string): string[] {
  return readdirSync(d)
    .sort()
    .flatMap((f) => {
      const p = join(d, f);
      if (statSync(p).isDirectory()) return pages(p);
      return f.endsWith('.html') && existsSync(p.replace(/\.html$/, '.json')) ? [p] : [];
    });
}
const REPORTS = pages(DOCS).map((p) => relative(DOCS, p).replace(/\.html$/, ''));
const WIDTHS = [375, 1280];

/** What the page shows about its charts: per SVG, axis lines, titles, ticks and overlapping label pairs. */
function chartFacts(page: Page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('svg.chart')].map((svg) => {
      const texts = [...svg.querySelectorAll('text')].map((t) => ({
        text: t.textContent ?? '',
        box: t.getBoundingClientRect(),
      }));
      const overlaps: string[] = [];
      // Half a pixel of slack: touching boxes are fine, overlapping glyphs are not.
      for (let i = 0; i < texts.length; i++)
        for (let j = i + 1; j < texts.length; j++) {
          const a = texts[i].box,
            b = texts[j].box;
          const dx = Math.min(a.right, b.right) - Math.max(a.left, b.left);
          const dy = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
          if (dx > 0.5 && dy > 0.5) overlaps.push(`"${texts[i].text}" × "${texts[j].text}"`);
        }
      const box = svg.getBoundingClientRect();
      return {
        label: svg.getAttribute('aria-label') ?? '',
        axes: svg.querySelectorAll('line.axis').length,
        titles: [...svg.querySelectorAll('text.axis-title')].map((t) => t.textContent ?? ''),
        ticks: svg.querySelectorAll('text.tick').length,
        overlaps,
        width: box.width,
        // Every label inside the chart's own box (none cut off at its edges).
        outside: texts
          .filter(
            ({ box: t }) =>
              t.left < box.left - 0.5 ||
              t.right > box.right + 0.5 ||
              t.top < box.top - 0.5 ||
              t.bottom > box.bottom + 0.5,
          )
          .map((t) => t.text),
      };
    }),
  );
}

describeBrowser('committed audit reports in chromium', () => {
  let browser: Browser;
  let server: TestServer;
  beforeAll(async () => {
    server = startTestServer((req) => {
      const file = join(DOCS, decodeURIComponent(new URL(req.url).pathname));
      if (!file.startsWith(DOCS) || !existsSync(file))
        return new Response('not found', { status: 404 });
      return new Response(Bun.file(file), {
        headers: { 'content-type': 'text/html; charset=utf-8' },
      });
    });
    browser = await launchBrowser();
  }, BROWSER_TIMEOUT_MS);
  afterAll(async () => {
    await browser?.close();
    server?.stop();
  });

  test(
    'the README headline chart: labelled axes, no overlapping labels',
    async () => {
      const page = await newCheckedPage(browser, { width: 1000, height: 700 });
      await page.goto(`file://${join(import.meta.dir, '../../docs/img/headline-robustness.svg')}`);
      const facts = await chartFacts(page);
      expect(facts.length).toBe(1);
      expect(facts[0].axes).toBeGreaterThanOrEqual(4);
      expect(facts[0].overlaps).toEqual([]);
      expect(facts[0].outside).toEqual([]);
      await saveScreenshot(page, 'headline-robustness');
      assertClean(page);
      await page.context().close();
    },
    BROWSER_TIMEOUT_MS,
  );

  test('there are reports to check', () => {
    expect(REPORTS).toContain('mnist-cnn');
  });

  for (const name of REPORTS)
    for (const width of WIDTHS)
      test(
        `${name} at ${width} px`,
        async () => {
          const page = await newCheckedPage(browser, {
            width,
            height: 900,
            allowedOrigins: [server.origin],
          });
          const url = `${server.origin}/${name}.html`;
          const requested: string[] = [];
          page.on('request', (r) => requested.push(r.url()));
          await page.goto(url, { waitUntil: 'load' });
          // The page asks for itself and nothing else (its images are data: URIs).
          expect(requested.filter((u) => !u.startsWith('data:'))).toEqual([url]);
          const facts = await chartFacts(page);
          expect(facts.length).toBeGreaterThanOrEqual(2);
          for (const f of facts) {
            expect({ chart: f.label, axes: f.axes }).toEqual({ chart: f.label, axes: 2 });
            expect(f.titles.filter((t) => t.trim()).length).toBe(2);
            expect(f.ticks).toBeGreaterThanOrEqual(4);
            expect({ chart: f.label, overlaps: f.overlaps }).toEqual({
              chart: f.label,
              overlaps: [],
            });
            expect({ chart: f.label, outside: f.outside }).toEqual({ chart: f.label, outside: [] });
            expect(f.width).toBeLessThanOrEqual(width);
          }
          const overflow = await page.evaluate(() => ({
            page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
            body: document.body.scrollWidth - document.body.clientWidth,
            tables: document.querySelectorAll('table').length,
            wrapped: document.querySelectorAll('.table-wrap > table').length,
          }));
          expect(overflow.page).toBeLessThanOrEqual(0);
          expect(overflow.body).toBeLessThanOrEqual(0);
          expect(overflow.wrapped).toBe(overflow.tables);
          await saveScreenshot(page, `report-${name}-${width}`);
          assertClean(page);
          await page.context().close();
        },
        BROWSER_TIMEOUT_MS,
      );
});
