// The demo page's HTML: one self-contained document (inline styles, system fonts, no request leaves the
// server), the served models written in as JSON for the script, and a plain notice instead of the script when
// its bundle is not built.
import type { DemoConfig } from './protocol.ts';

/** JSON safe inside <script>: '<' escaped, so no string in it can close the element. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page's Content-Security-Policy: its own origin only; WebAssembly compiled by the worker's core. */
export const PAGE_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'unsafe-inline'; img-src 'self' data: blob:; worker-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

const STYLE = `
:root { color-scheme: light; --ink: #1d2433; --muted: #5b6478; --line: #dde2ec; --accent: #2f5bea; --bad: #c0392b; --good: #1e8449; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #f4f6fa; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.4rem 1.2rem; padding: 0.9rem 1.5rem; background: #141b2d; color: #fff; }
header h1 { margin: 0; font-size: 1.3rem; letter-spacing: 0.02em; }
header p { margin: 0; color: #b8c1d9; flex: 1; }
header label { color: #dfe5f5; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 1rem; padding: 1rem 1.5rem 2rem; max-width: 1400px; margin: 0 auto; }
#audit-card { grid-column: 1 / -1; }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 0.9rem 1.1rem 1.1rem; }
h2 { font-size: 1.02rem; margin: 0 0 0.7rem; }
h3 { font-size: 0.92rem; margin: 1rem 0 0.4rem; color: var(--muted); text-transform: uppercase; letter-spacing: 0.04em; }
#pad { width: 280px; height: 280px; max-width: 100%; border-radius: 8px; background: #000; touch-action: none; cursor: crosshair; display: block; }
canvas.px { width: 112px; height: 112px; image-rendering: pixelated; border: 1px solid var(--line); border-radius: 6px; background: #000; }
figure { margin: 0; display: inline-flex; flex-direction: column; gap: 0.25rem; font-size: 0.8rem; color: var(--muted); }
.row { display: flex; flex-wrap: wrap; align-items: center; gap: 0.6rem 1rem; margin: 0.6rem 0; }
.big { font-size: 3.2rem; font-weight: 700; line-height: 1; min-width: 2ch; }
button, .file { font: inherit; padding: 0.35rem 0.8rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.secondary, .file { background: #fff; color: var(--accent); }
button:disabled { opacity: 0.5; cursor: default; }
.file input { display: none; }
input[type=number] { width: 5.5em; font: inherit; padding: 0.2rem 0.3rem; }
select { font: inherit; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 0.8rem; margin: 0.8rem 0 0; font-size: 0.88rem; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
.bar { display: grid; grid-template-columns: 1.5em 1fr 3.5em; align-items: center; gap: 0.4rem; font-size: 0.8rem; font-variant-numeric: tabular-nums; }
.bar i { display: block; height: 0.55rem; background: #c5cfe6; border-radius: 3px; }
.bar.top i { background: var(--accent); }
.hint, #probs { color: var(--muted); font-size: 0.85rem; }
#status { min-height: 1.3em; margin: 0.5rem 1.5rem 0; color: var(--muted); }
#status.error, .notice { color: var(--bad); }
.outcome.blocked, .outcome.held { color: var(--good); }
.outcome.flipped { color: var(--bad); }
iframe { width: 100%; height: 520px; border: 1px solid var(--line); border-radius: 6px; margin-top: 0.5rem; }
.notice { background: #fff4f2; border: 1px solid #f3c4bd; border-radius: 8px; padding: 0.8rem 1rem; margin: 1rem 1.5rem; }
`;

const BODY = `
<main>
<section id="input-card">
  <h2>1 · Draw a digit, or drop an image</h2>
  <canvas id="pad" width="280" height="280" aria-label="drawing pad"></canvas>
  <div class="row">
    <button id="clear" class="secondary">Clear</button>
    <label class="file">Choose image…<input type="file" id="file" accept="image/png,image/jpeg"></label>
  </div>
  <p class="hint">Mouse, pen or finger; or drop a PNG or JPEG onto this card. Uploads are converted as the server's
  <code>:classify</code> does; drawings are centred as MNIST digits were.</p>
</section>
<section id="result-card">
  <h2>2 · What the server says</h2>
  <div class="row">
    <figure><canvas id="input28" class="px"></canvas><figcaption id="input-shape">model input</figcaption></figure>
    <div><div id="label" class="big">–</div><div class="hint">label from <code>POST /v2/models/{m}/infer</code></div></div>
  </div>
  <div id="probs"></div>
  <dl>
    <dt>defense</dt><dd id="defense">–</dd>
    <dt>served on</dt><dd id="served-backend">–</dd>
    <dt>scores</dt><dd id="scores">–</dd>
    <dt>certified radius</dt><dd id="radius">–</dd>
    <dt>local copy</dt><dd id="local">–</dd>
  </dl>
</section>
<section id="attack-card">
  <h2>3 · Attack it</h2>
  <h3>White-box PGD, in this browser</h3>
  <div class="row">
    <label>ε <input id="eps" type="number" min="0.01" max="1" step="0.01" value="0.3"></label>
    <label>steps <input id="steps" type="number" min="1" max="500" step="1" value="40"></label>
    <label>loss <select id="loss"><option value="cw">cw (margin)</option><option value="dlr">dlr</option><option value="ce">ce</option></select></label>
    <button id="pgd" disabled>Run PGD</button>
  </div>
  <div class="row">
    <figure><canvas id="pgd-adv" class="px"></canvas><figcaption>adversarial</figcaption></figure>
    <figure><canvas id="pgd-delta" class="px"></canvas><figcaption>perturbation (±ε → white/black)</figcaption></figure>
  </div>
  <p id="pgd-result" class="hint">Runs on a local copy of the model in a Web Worker (its files come from this server).
  On a gradient-inhibited model the ce loss sees a vanishing gradient; the margin losses do not.</p>
  <h3>Black-box, through the server's API</h3>
  <div class="row">
    <label>ε <input id="r-eps" type="number" min="0.01" max="1" step="0.01" value="0.3"></label>
    <label>queries <input id="r-queries" type="number" min="20" max="10000" step="10" value="500"></label>
    <button id="remote">Attack the server</button>
  </div>
  <div class="row"><figure><canvas id="remote-adv" class="px" hidden></canvas></figure></div>
  <p id="remote-result" class="hint">Square where the server reveals scores, HopSkipJump where it reveals labels only.
  The server's query-attack detection may block this browser (403) for its ban period.</p>
</section>
<section id="audit-card">
  <h2>4 · Audit</h2>
  <p>Latest audit of these weights: <span id="audit-text">–</span>
  <a id="audit-link" target="_blank" rel="noopener" hidden>open the report</a></p>
  <details id="audit-details" hidden><summary>Show the report's charts here</summary><iframe id="audit-frame" title="audit report"></iframe></details>
  <p class="hint">Robust accuracy, attack success per attack and configuration, ε sweeps and masking checks, from
  <code>bun run audit</code>; the data is at <code>GET /v2/models/{m}/robustness</code>.</p>
</section>
</main>`;

/**
 * The whole page. `missing` (the reason the script bundle is absent) replaces the script with a notice;
 * everything else comes from the API once the script runs.
 */
export function demoPage(config: DemoConfig, missing: string | null): string {
  const script = missing
    ? `<p class="notice">${escapeHtml(missing)}</p>`
    : `<script type="application/json" id="demo-config">${scriptJson(config)}</script>
<script type="module" src="/demo/page.js"></script>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hashguard · demo</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>hashguard</h1>
  <p>Draw a digit, see what the served model answers, then try to fool it.</p>
  <label id="model-picker" hidden>model <select id="model"></select></label>
</header>
<p id="status" role="status"></p>
${BODY}
${script}
</body>
</html>
`;
}
