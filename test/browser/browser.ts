// Browser test harness: Debian's chromium driven headless by playwright-core, pages that record every console
// error, page error, failed request and request to a host other than the local test server, and screenshots
// under test-artifacts/screenshots/ (CI keeps that folder). Without chromium the suite skips locally and
// fails under CI=true (test/helpers/services.ts).
import { describe } from 'bun:test';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { serviceMissing } from '../helpers/services.ts';

/** The chromium binary the tests drive: HASHGUARD_CHROMIUM, else Debian's /usr/bin/chromium. */
export const CHROMIUM_PATH = process.env.HASHGUARD_CHROMIUM || '/usr/bin/chromium';

/** True when the chromium binary exists on this machine. */
export const chromiumAvailable = existsSync(CHROMIUM_PATH);

/** Where saveScreenshot writes: test-artifacts/screenshots/ at the repository root (gitignored). */
export const SCREENSHOT_DIR = resolve(import.meta.dir, '../../test-artifacts/screenshots');

/** Launch timeout and a per-test timeout that leaves room for a cold chromium on a busy machine. */
export const BROWSER_TIMEOUT_MS = 60_000;

// NOTE: --no-sandbox because CI runs as root, where chromium refuses its sandbox. --disable-dev-shm-usage keeps
// shared memory in /tmp for containers with a small /dev/shm.
const BASE_ARGS = ['--no-sandbox', '--disable-dev-shm-usage'];

// WebGPU on SwiftShader (CPU Vulkan) in headless chromium 156. navigator.gpu exists only in a secure context:
// serve pages from http://127.0.0.1 or localhost, not about:blank or data:.
const WEBGPU_ARGS = [
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--use-angle=swiftshader',
];

/** Options for launchBrowser. */
export interface LaunchOptions {
  /** Enable WebGPU through SwiftShader (default false). */
  webgpu?: boolean;
}

/** Launches headless chromium (CHROMIUM_PATH) with flags that work as root in CI. */
export function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    timeout: BROWSER_TIMEOUT_MS,
    args: options.webgpu ? [...BASE_ARGS, ...WEBGPU_ARGS] : BASE_ARGS,
  });
}

/**
 * describe() for a browser suite: runs `body` when chromium is installed; otherwise one skipped test locally
 * (one failing test under CI=true) naming how to install it.
 */
export function describeBrowser(name: string, body: () => void): void {
  if (!chromiumAvailable) {
    serviceMissing(
      'chromium',
      'install Debian package chromium or set HASHGUARD_CHROMIUM to a chromium binary',
      `${CHROMIUM_PATH} not found`,
    );
    return;
  }
  describe(name, body);
}

/** Everything a checked page saw go wrong. */
export interface PageProblems {
  consoleErrors: string[];
  pageErrors: string[];
  failedRequests: string[];
  externalRequests: string[];
}

/** Options for newCheckedPage. */
export interface CheckedPageOptions {
  /** Viewport size (default 1280×800). */
  width?: number;
  height?: number;
  /**
   * Origins a page may request (e.g. a Bun.serve test server's `http://127.0.0.1:PORT`). Default: any port on
   * 127.0.0.1, localhost and [::1]. data:, blob:, about: and file: URLs are always allowed.
   */
  allowedOrigins?: string[];
}

const problemsByPage = new WeakMap<Page, PageProblems>();
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function isAllowed(url: string, allowedOrigins: string[] | undefined): boolean {
  const parsed = new URL(url);
  if (['data:', 'blob:', 'about:', 'file:'].includes(parsed.protocol)) return true;
  if (allowedOrigins) return allowedOrigins.includes(parsed.origin);
  return LOCAL_HOSTS.has(parsed.hostname);
}

/**
 * Opens a page in its own context (own viewport) that records console errors, uncaught page errors, failed
 * requests (network failures and HTTP status ≥ 400) and requests to any other host; those external requests
 * are aborted, so a test never reaches the network. Check it with assertClean(page).
 */
export async function newCheckedPage(
  browser: Browser,
  options: CheckedPageOptions = {},
): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
  });
  const page = await context.newPage();
  const problems: PageProblems = {
    consoleErrors: [],
    pageErrors: [],
    failedRequests: [],
    externalRequests: [],
  };
  problemsByPage.set(page, problems);
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (isAllowed(url, options.allowedOrigins)) return route.continue();
    problems.externalRequests.push(url);
    return route.abort('blockedbyclient');
  });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => problems.pageErrors.push(error.message));
  page.on('requestfailed', (request) => {
    // The aborted external requests are reported once, as external.
    if (problems.externalRequests.includes(request.url())) return;
    problems.failedRequests.push(`${request.url()}: ${request.failure()?.errorText ?? 'failed'}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400)
      problems.failedRequests.push(`${response.url()}: HTTP ${response.status()}`);
  });
  return page;
}

/** What a checked page recorded so far (empty lists for a page newCheckedPage did not open). */
export function pageProblems(page: Page): PageProblems {
  return (
    problemsByPage.get(page) ?? {
      consoleErrors: [],
      pageErrors: [],
      failedRequests: [],
      externalRequests: [],
    }
  );
}

/** Throws, listing them, when the page logged a console error, threw, or made a failed or external request. */
export function assertClean(page: Page): void {
  const problems = pageProblems(page);
  const lines = Object.entries(problems).flatMap(([kind, list]: [string, string[]]) =>
    list.map((item) => `${kind}: ${item}`),
  );
  if (lines.length) throw new Error(`page ${page.url()} was not clean:\n  ${lines.join('\n  ')}`);
}

/**
 * Saves a PNG as test-artifacts/screenshots/<name>.png and returns its path: the full page for an HTML
 * document, the viewport for anything else (a full-page shot of a bare SVG document never finishes).
 */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`);
  const html = await page.evaluate(() => document.body !== null);
  await page.screenshot({ path, fullPage: html });
  return path;
}

/** A local HTTP server for browser tests: its origin (a secure context, as WebGPU needs) and a stop(). */
export interface TestServer {
  origin: string;
  stop(): void;
}

/** Serves `fetch` on 127.0.0.1 at a free port; pass its origin to newCheckedPage's allowedOrigins. */
export function startTestServer(
  fetch: (request: Request) => Response | Promise<Response>,
): TestServer {
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch });
  return { origin: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}
