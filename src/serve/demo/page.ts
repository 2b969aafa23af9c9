// The demo page's script (bundled to /demo/page.js): draw or drop a digit, show the model input, the server's
// answer (label, scores it reveals, certified radius) and the local copy's, then attack: PGD in the worker on
// the local copy, Square or HopSkipJump against the server's API. State is mirrored on window.hashguardDemo.
import { ApiError, infer, modelInfo, WorkerClient, type ModelInfo } from './client.ts';
import { Pad } from './pad.ts';
import { drawingToInput } from './preprocess.ts';
import type { BackendChoice, DemoConfig, PgdLoss, WorkerAnswers } from './protocol.ts';
import {
  $,
  describeDefense,
  describeRadius,
  drawImage,
  drawPerturbation,
  renderBars,
  show,
} from './view.ts';

const config = JSON.parse($('demo-config').textContent!) as DemoConfig;
const params = new URLSearchParams(location.search);
const backend = (
  ['cpu', 'webgpu'].includes(params.get('backend') ?? '') ? params.get('backend') : 'auto'
) as BackendChoice;

/** Everything the page knows, for people (rendered) and tests (window.hashguardDemo). */
const state = {
  model: null as ModelInfo | null,
  local: null as WorkerAnswers['load'] | null,
  /** Classifications finished so far (tests wait for it to grow). */
  seq: 0,
  input: null as {
    x: number[];
    label: number;
    probabilities: number[] | null;
    radius?: number | null;
    local: WorkerAnswers['predict'] | null;
  } | null,
  pgd: null as
    (Omit<WorkerAnswers['pgd'], 'xAdv'> & { xAdv: number[]; server: number | null }) | null,
  remote: null as (Omit<WorkerAnswers['remote'], 'xAdv'> & { xAdv: number[] | null }) | null,
  error: null as string | null,
};
(globalThis as { hashguardDemo?: typeof state }).hashguardDemo = state;

const worker = new WorkerClient('/demo/worker.js');
const pad = new Pad($<HTMLCanvasElement>('pad'), () => void fromPad());
let current: Float32Array | null = null;

function status(text: string, error = false) {
  $('status').textContent = text;
  $('status').className = error ? 'error' : '';
  if (error) state.error = text;
}

/** Where the local copy runs, in short: the backend without the notes on the paths not taken. */
const engine = () =>
  state.local!.kind === 'webgpu'
    ? state.local!.backend.split(';')[0]
    : state.local!.backend.split(':')[0];

const message = (e: unknown) =>
  e instanceof ApiError
    ? `${e.status}${e.code ? ` ${e.code}` : ''}: ${e.message}`
    : (e as Error).message;

/** Disables the action buttons while `work` runs; reports its failure in the status line. */
async function busy(text: string, work: () => Promise<void>) {
  const buttons = ['pgd', 'remote', 'clear'].map((id) => $<HTMLButtonElement>(id));
  for (const b of buttons) b.disabled = true;
  status(text);
  try {
    await work();
    status('');
  } catch (e) {
    status(message(e), true);
  } finally {
    for (const b of buttons) b.disabled = false;
    $<HTMLButtonElement>('pgd').disabled = !state.local;
  }
}

async function selectModel(name: string) {
  await busy(`loading ${name}…`, async () => {
    const m = await modelInfo(name);
    state.model = m;
    state.input = state.pgd = state.remote = state.local = null;
    current = null;
    const entry = config.models.find((e) => e.name === name)!;
    $('defense').textContent = describeDefense(m);
    $('served-backend').textContent =
      `${m.backend ?? 'unknown'}${m.randomized ? '; randomized: every query draws anew' : ''}`;
    $('scores').textContent = m.outputs.filter((o) => o !== 'labels').join(', ') || 'labels only';
    $('radius').textContent = describeRadius(m, {});
    $('input-shape').textContent = `model input ${m.shape.join('×')}`;
    renderAudit(entry.audit);
    $('local').textContent = entry.filesRefused ?? 'loading the model files…';
    $<HTMLButtonElement>('pgd').disabled = true;
    if (!entry.filesRefused) {
      state.local = await worker.call({ type: 'load', model: name, backend });
      $('local').textContent = engine();
    }
  });
}

function renderAudit(audit: DemoConfig['models'][number]['audit']) {
  const link = $<HTMLAnchorElement>('audit-link');
  show($('audit-details'), !!audit?.report);
  if (!audit) {
    $('audit-text').textContent = 'no audit report matches these weights';
    show(link, false);
    return;
  }
  $('audit-text').textContent =
    `${audit.file}${audit.configuration ? `, configuration "${audit.configuration}"` : ''}`;
  show(link, !!audit.report);
  if (audit.report) link.href = audit.report;
  $<HTMLIFrameElement>('audit-frame').removeAttribute('src');
}

/** Classifies x on the server and on the local copy, and shows both. */
async function classify(x: Float32Array) {
  const m = state.model!;
  current = x;
  state.pgd = state.remote = null;
  drawImage($<HTMLCanvasElement>('input28'), x, m.shape);
  const [answer, local] = await Promise.all([
    infer(m, x),
    state.local ? worker.call({ type: 'predict', x: x.slice() }) : null,
  ]);
  $('label').textContent = m.classes[answer.label] ?? String(answer.label);
  renderBars($('probs'), answer.probabilities, m.classes);
  if (m.certificates) $('radius').textContent = describeRadius(m, answer);
  if (local)
    $('local').textContent =
      `${engine()}: label ${m.classes[local.label]}; logits${m.randomized ? ' before the random stage' : ''} ` +
      local.networkLogits.map((v) => v.toFixed(1)).join(' ');
  state.input = {
    x: Array.from(x),
    label: answer.label,
    probabilities: answer.probabilities,
    ...(m.certificates ? { radius: answer.radius } : {}),
    local,
  };
  state.seq++;
}

async function fromPad() {
  const m = state.model;
  if (!m) return;
  await busy('classifying…', () =>
    classify(drawingToInput(pad.ink(), pad.canvas.width, pad.canvas.height, m.shape, m.background)),
  );
}

async function fromFile(file: File) {
  const m = state.model;
  if (!m) return;
  await busy(`classifying ${file.name}…`, async () => {
    const bytes = await file.arrayBuffer();
    pad.show(await createImageBitmap(file));
    const r = await worker.call(
      { type: 'image', bytes, shape: m.shape, background: m.background },
      [bytes],
    );
    await classify(r.x);
  });
}

async function attackLocal() {
  const m = state.model!;
  if (!current || !state.input) return status('draw or drop a digit first', true);
  const eps = Number($<HTMLInputElement>('eps').value),
    steps = Number($<HTMLInputElement>('steps').value);
  const loss = $<HTMLSelectElement>('loss').value as PgdLoss;
  const x = current;
  await busy(`PGD: ${steps} steps at ε ${eps}…`, async () => {
    const r = await worker.call({
      type: 'pgd',
      x: x.slice(),
      label: state.input!.label,
      eps,
      steps,
      loss,
    });
    drawImage($<HTMLCanvasElement>('pgd-adv'), r.xAdv, m.shape);
    drawPerturbation($<HTMLCanvasElement>('pgd-delta'), x, r.xAdv, eps, m.shape);
    const server = await infer(m, r.xAdv).then((a) => a.label);
    const name = (k: number) => m.classes[k] ?? String(k);
    $('pgd-result').textContent =
      `${r.attack}, ${r.queries} gradient queries on the local copy: ${name(r.before)} → ${name(r.after)} ` +
      `(${r.success ? 'fooled' : 'held'}); ‖δ‖∞ ${r.linf.toFixed(4)} ≤ ε ${eps}. The server says ${name(server)}.`;
    $('pgd-result').className = `outcome ${server === r.before ? 'held' : 'flipped'}`;
    state.pgd = { ...r, xAdv: Array.from(r.xAdv), server };
  });
}

async function attackServer() {
  const m = state.model!;
  if (!current || !state.input) return status('draw or drop a digit first', true);
  const eps = Number($<HTMLInputElement>('r-eps').value),
    queries = Number($<HTMLInputElement>('r-queries').value);
  const x = current;
  await busy('attacking the server through its API…', async () => {
    const r = await worker.call({
      type: 'remote',
      model: m.name,
      x: x.slice(),
      label: state.input!.label,
      eps,
      queries,
    });
    if (r.xAdv) drawImage($<HTMLCanvasElement>('remote-adv'), r.xAdv, m.shape);
    show($('remote-adv'), !!r.xAdv);
    const verdict = {
      flipped: 'the label flipped',
      held: 'the label held',
      blocked: 'the server blocked the attacker (403 query_attack_detected)',
      budget: "the client's query budget ran out (429)",
    }[r.outcome];
    $('remote-result').textContent = `${r.attack}: ${r.queries} queries; ${verdict}. ${r.message}`;
    $('remote-result').className = `outcome ${r.outcome}`;
    state.remote = { ...r, xAdv: r.xAdv ? Array.from(r.xAdv) : null };
  });
}

// Wiring: model picker, pad, file input and drop, buttons, the lazily loaded audit report.
const select = $<HTMLSelectElement>('model');
const ready = config.models.filter((m) => m.ready);
for (const m of ready) select.append(new Option(m.name, m.name));
show($('model-picker'), ready.length > 1);
const wanted = params.get('model');
if (wanted && ready.some((m) => m.name === wanted)) select.value = wanted;
select.addEventListener('change', () => void selectModel(select.value));
$('clear').addEventListener('click', () => pad.clear());
$<HTMLInputElement>('file').addEventListener('change', (e) => {
  const input = e.target as HTMLInputElement;
  const f = input.files?.[0];
  input.value = ''; // so choosing the same file again is a change too
  if (f) void fromFile(f);
});
const drop = $('input-card');
drop.addEventListener('dragover', (e) => e.preventDefault());
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  const f = e.dataTransfer?.files[0];
  if (f) void fromFile(f);
});
$('pgd').addEventListener('click', () => void attackLocal());
$('remote').addEventListener('click', () => void attackServer());
$('audit-details').addEventListener('toggle', () => {
  const frame = $<HTMLIFrameElement>('audit-frame');
  if (!frame.getAttribute('src')) frame.src = $<HTMLAnchorElement>('audit-link').href;
});
if (ready.length) void selectModel(select.value);
else status('no served model is ready yet: reload in a moment', true);
