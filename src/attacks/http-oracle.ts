// The HTTP oracle: a Target that queries a running hashguard server through its public Open Inference
// Protocol v2 API (POST /v2/models/{m}/infer, FP32 tensors), one counted query per image row, like the local
// oracles. Runtime-neutral on purpose (fetch only, no node: imports): it runs in Bun, Deno, browsers and workers.
import { Tensor } from '../tensor/index.ts';
import { Counted, QueryBudgetExceeded, type ScoreTarget } from './target.ts';
import { intAtLeast } from './types.ts';

/** The part of `fetch` the oracle uses; tests pass `(url, init) => app.request(url, init)` (no sockets). */
export type FetchLike = (url: string, init: RequestInit) => Response | Promise<Response>;

export interface HttpOracleOptions {
  /** Server base URL, e.g. 'http://127.0.0.1:8080'. */
  url: string;
  /** Served model name (the {m} of /v2/models/{m}). */
  model: string;
  /** Bearer key (sent as `Authorization: Bearer <key>`; on hashguard it names the server-side budget). */
  apiKey?: string;
  /** fetch implementation (default: the global fetch). */
  fetch?: FetchLike;
  /** Most rows per request (default: the server's advertised maxBatch, else 64, hashguard's default). */
  maxBatch?: number;
  /** Largest request body in bytes (default: the server's advertised maxBodyBytes, else 1 MiB). */
  maxBodyBytes?: number;
  /** Client-side total query budget (default none); reserve/release work as on the local oracles. */
  budget?: number;
  /** Attack through labels even when the server also returns scores (default false). */
  labelsOnly?: boolean;
  /** Retries of a request answered 503 (queue full, deadline), after its Retry-After (default 2). */
  retries?: number;
  /** Longest wait before a retry, in ms, whatever Retry-After says (default 5000). */
  maxRetryDelayMs?: number;
}

/** What GET /v2/models/{m} says about the model, as far as an attack needs it. */
export interface ServedModelInfo {
  name: string;
  inputShape: number[];
  classes: string[];
  /** The scores output the server reveals besides labels, or null (labels only). */
  scores: 'probabilities' | 'logits' | null;
  /** Random GI: every query draws fresh randomness (verdicts need several queries). */
  randomized: boolean;
  maxBatch: number | null;
  maxBodyBytes: number | null;
  weightsSha256: string | null;
  backend: string | null;
  defense: unknown;
}

/** The server answered 429: its per-client budget is spent. A QueryBudgetExceeded, so attacks stop and report. */
export class ServerBudgetExceeded extends QueryBudgetExceeded {
  constructor(
    readonly serverMessage: string,
    readonly retryAfterS: number | null,
    limit: number,
  ) {
    super(limit);
    this.message = `server query budget exhausted (429): ${serverMessage}`;
  }
}

/**
 * The server answered 403 query_attack_detected: its detector flagged this client. A QueryBudgetExceeded, so
 * attacks stop and report what they have, and the audit records why it stopped.
 */
export class ServerDetectedAttack extends QueryBudgetExceeded {
  constructor(
    readonly serverMessage: string,
    readonly retryAfterS: number | null,
    answered: number,
  ) {
    super(answered);
    this.message = `the server's query-attack detector refused this client (403) after ${answered} answered queries: ${serverMessage}`;
  }
}

const DEFAULT_MAX_BATCH = 64;
const DEFAULT_MAX_BODY = 1 << 20;

/**
 * A float32 as the shortest JSON text that reads back to the same float32: 9 significant digits always
 * suffice (FLT_DECIMAL_DIG), and the server stores the parsed double into a Float32Array, so it sees the
 * exact pixels the attack made. NOTE: plain JSON.stringify would print the float32's double expansion
 * (up to 17 digits), nearly twice the bytes, and push batches over the body limit.
 */
function f32Text(v: number): string {
  if (v === 0 || v === 1) return v === 0 ? '0' : '1';
  const s = String(v);
  return s.length <= 11 ? s : String(Number(v.toPrecision(9)));
}

const positiveInt = (v: unknown): number | null =>
  typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : null;

/**
 * A Target over a running server's public API. kind 'scores' when the model's serving config reveals
 * probabilities or logits (read from GET /v2/models/{m}), else 'labels'. Batches are split to respect the
 * server's batch and body limits; every row the server answers counts one query, as on the local oracles.
 * A 429 (the server's budget is spent) raises ServerBudgetExceeded, a QueryBudgetExceeded, so attacks stop
 * and report what they have; other failures raise an Error naming the status and the server's message.
 *
 * @example
 *   const oracle = await HttpOracle.connect({ url: 'http://127.0.0.1:8080', model: 'mnist-lenet5-h8-gi' });
 *   const r = await new Square({ eps: 0.3, maxQueries: 1000 }).run(oracle, x, y); // needs oracle.kind 'scores'
 */
export class HttpOracle extends Counted implements ScoreTarget {
  readonly kind: 'scores' | 'labels';
  private readonly base: string;
  private readonly fetchFn: FetchLike;
  private readonly rowsPerRequest: number;
  private readonly bodyLimit: number;

  /** Reads the model's metadata, then builds the oracle. */
  static async connect(opts: HttpOracleOptions): Promise<HttpOracle> {
    return new HttpOracle(opts, await fetchModelInfo(opts));
  }

  constructor(
    private readonly opts: HttpOracleOptions,
    readonly info: ServedModelInfo,
  ) {
    super(info.inputShape, opts.budget);
    this.kind = info.scores && !opts.labelsOnly ? 'scores' : 'labels';
    this.base = `${opts.url.replace(/\/+$/, '')}/v2/models/${encodeURIComponent(opts.model)}`;
    this.fetchFn = opts.fetch ?? ((url, init) => fetch(url, init));
    this.rowsPerRequest = Math.min(
      opts.maxBatch ?? Infinity,
      info.maxBatch ?? (opts.maxBatch ? Infinity : DEFAULT_MAX_BATCH),
    );
    this.bodyLimit = opts.maxBodyBytes ?? info.maxBodyBytes ?? DEFAULT_MAX_BODY;
    if (opts.maxBatch !== undefined && !intAtLeast(opts.maxBatch, 1))
      throw new Error(`HttpOracle: maxBatch must be an integer ≥ 1, got ${opts.maxBatch}`);
  }

  /** What the server says of its model: a randomized one gets verdicts by most of 10 fresh queries (evaluate.ts). */
  get randomized(): boolean {
    return this.info.randomized;
  }

  async predict(x: Tensor): Promise<number[]> {
    return Array.from((await this.infer(x, 'labels')).data, Math.round);
  }

  /** The served scores (probabilities or logits, as the deployment reveals) [N, classes]. */
  async scores(x: Tensor): Promise<Tensor> {
    if (this.kind !== 'scores')
      throw new Error(
        `HttpOracle: model '${this.opts.model}' is used through labels only${this.info.scores ? ' (labelsOnly)' : ': the server reveals no scores'}`,
      );
    return this.infer(x, this.info.scores!);
  }

  /** Sends x in as few requests as the limits allow, in order; charges each answered chunk's rows. */
  private async infer(x: Tensor, output: string): Promise<Tensor> {
    const n = x.shape[0],
      d = x.size / Math.max(1, n);
    if (x.shape.slice(1).join() !== this.inputShape.join())
      throw new Error(
        `HttpOracle: input must be [N, ${this.inputShape.join(', ')}], got [${x.shape.join(', ')}]`,
      );
    // The whole batch is refused up front when it would eat into the budget or the reserve (as Counted.charge).
    this.admit(n);
    const rows: string[] = [];
    for (let r = 0; r < n; r++) {
      const parts = new Array<string>(d);
      for (let i = 0; i < d; i++) parts[i] = f32Text(x.data[r * d + i]);
      rows.push(parts.join(','));
    }
    const outs: number[] = [];
    let width = 0;
    // The body around the data; the shape's batch digit count is largest for k = n, so this bounds every chunk's.
    const overhead = this.body(n, output, '').length;
    for (let s = 0; s < n;) {
      // Greedy packing: as many rows as the batch limit and the body limit (ASCII: bytes = characters) allow.
      let e = s,
        bytes = overhead;
      while (e < n && e - s < this.rowsPerRequest) {
        const add = rows[e].length + (e > s ? 1 : 0); // the comma between rows
        if (bytes + add > this.bodyLimit) break;
        bytes += add;
        e++;
      }
      if (e === s)
        throw new Error(
          `HttpOracle: one image (${rows[s].length} bytes of JSON) does not fit the server's body limit of ${this.bodyLimit} bytes`,
        );
      const got = await this.post(
        this.body(e - s, output, rows.slice(s, e).join(',')),
        output,
        e - s,
      );
      this.count += e - s;
      width = got.width;
      for (const v of got.data) outs.push(v);
      s = e;
    }
    return output === 'labels'
      ? new Tensor([n], Float32Array.from(outs))
      : new Tensor([n, width], Float32Array.from(outs));
  }

  private body(k: number, output: string, data: string): string {
    return `{"inputs":[{"name":"input","shape":[${[k, ...this.inputShape].join(',')}],"datatype":"FP32","data":[${data}]}],"outputs":[{"name":"${output}"}]}`;
  }

  private headers(json: boolean): Record<string, string> {
    return {
      ...(json ? { 'content-type': 'application/json' } : {}),
      ...(this.opts.apiKey ? { authorization: `Bearer ${this.opts.apiKey}` } : {}),
    };
  }

  /** One infer request; retries 503s, maps 429 to ServerBudgetExceeded and checks the answer's shape. */
  private async post(
    body: string,
    output: string,
    k: number,
  ): Promise<{ data: number[]; width: number }> {
    const url = `${this.base}/infer`;
    const retries = this.opts.retries ?? 2;
    for (let attempt = 0; ; attempt++) {
      const res = await request(this.fetchFn, url, {
        method: 'POST',
        headers: this.headers(true),
        body,
      });
      if (res.status === 503 && attempt < retries) {
        await res.body?.cancel();
        const after = Number(res.headers.get('retry-after'));
        await new Promise((r) =>
          setTimeout(
            r,
            Math.min(
              this.opts.maxRetryDelayMs ?? 5000,
              1000 * (Number.isFinite(after) && after > 0 ? after : 1),
            ),
          ),
        );
        continue;
      }
      if (res.status === 429) {
        const msg = await errorMessage(res);
        const after = Number(res.headers.get('retry-after'));
        // Best effort: hashguard's messages name the limit ("U of L images used", "budget of L per window");
        // else the rows answered here.
        const m = / of (\d+) images used|budget of (\d+) per window/.exec(msg);
        const limit = Number(m?.[1] ?? m?.[2] ?? this.count);
        throw new ServerBudgetExceeded(
          msg,
          Number.isFinite(after) && after > 0 ? after : null,
          limit,
        );
      }
      if (res.status === 403) {
        const text = await res.text();
        let body: { error?: string; code?: string } | null = null;
        try {
          body = JSON.parse(text);
        } catch {}
        if (body?.code === 'query_attack_detected') {
          const after = Number(res.headers.get('retry-after'));
          throw new ServerDetectedAttack(
            body.error ?? 'query attack detected',
            Number.isFinite(after) && after > 0 ? after : null,
            this.count,
          );
        }
        throw new Error(`HttpOracle: POST ${url} → 403: ${body?.error ?? text.slice(0, 200)}`);
      }
      if (!res.ok)
        throw new Error(`HttpOracle: POST ${url} → ${res.status}: ${await errorMessage(res)}`);
      const json = (await res.json().catch(() => null)) as {
        outputs?: { name?: string; shape?: number[]; data?: unknown[] }[];
      } | null;
      const out = json?.outputs?.find((o) => o.name === output);
      const width = output === 'labels' ? 1 : (out?.shape?.[1] ?? 0);
      if (
        !out ||
        !Array.isArray(out.data) ||
        out.shape?.[0] !== k ||
        out.data.length !== k * width ||
        !out.data.every((v) => typeof v === 'number' && Number.isFinite(v))
      ) {
        throw new Error(
          `HttpOracle: POST ${url}: the answer has no valid '${output}' output for ${k} rows`,
        );
      }
      return { data: out.data as number[], width };
    }
  }
}

/** fetch, with a network failure turned into an Error that names the URL. */
async function request(f: FetchLike, url: string, init: RequestInit): Promise<Response> {
  try {
    return await f(url, init);
  } catch (e) {
    throw new Error(`HttpOracle: ${init.method ?? 'GET'} ${url} failed: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/** The server's {"error": "..."} message, else the start of the body. */
async function errorMessage(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const j = JSON.parse(text) as { error?: unknown };
    if (typeof j.error === 'string') return j.error;
  } catch {}
  return text.slice(0, 200) || res.statusText || '(no body)';
}

/** GET /v2/models/{m}: input shape, served outputs, randomness and limits; an Error naming the problem otherwise. */
export async function fetchModelInfo(
  opts: Pick<HttpOracleOptions, 'url' | 'model' | 'apiKey' | 'fetch'>,
): Promise<ServedModelInfo> {
  const url = `${opts.url.replace(/\/+$/, '')}/v2/models/${encodeURIComponent(opts.model)}`;
  const res = await request(opts.fetch ?? ((u, i) => fetch(u, i)), url, {
    method: 'GET',
    headers: opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {},
  });
  if (!res.ok)
    throw new Error(`HttpOracle: GET ${url} → ${res.status}: ${await errorMessage(res)}`);
  const m = (await res.json().catch(() => null)) as Record<string, any> | null;
  const input = m?.inputs?.[0];
  const shape = Array.isArray(input?.shape) ? input.shape.slice(1) : [];
  if (!shape.length || !shape.every((v: unknown) => positiveInt(v) !== null))
    throw new Error(`HttpOracle: GET ${url}: no input shape [-1, C, H, W] in the metadata`);
  const range = input.parameters?.range;
  if (Array.isArray(range) && (range[0] !== 0 || range[1] !== 1))
    throw new Error(
      `HttpOracle: model '${opts.model}' takes inputs in [${range.join(', ')}]; attacks work on [0, 1]`,
    );
  const outputs: string[] = Array.isArray(m!.outputs)
    ? m!.outputs.map((o: { name?: unknown }) => String(o?.name))
    : [];
  if (!outputs.includes('labels'))
    throw new Error(
      `HttpOracle: GET ${url}: the model serves no 'labels' output (outputs: ${outputs.join(', ') || 'none'})`,
    );
  return {
    name: String(m!.name ?? opts.model),
    inputShape: shape,
    classes: Array.isArray(m!.classes) ? m!.classes.map(String) : [],
    scores: outputs.includes('logits')
      ? 'logits'
      : outputs.includes('probabilities')
        ? 'probabilities'
        : null,
    randomized: m!.randomized === true,
    maxBatch: positiveInt(input.parameters?.maxBatch),
    maxBodyBytes: positiveInt(input.parameters?.maxBodyBytes),
    weightsSha256: typeof m!.weightsSha256 === 'string' ? m!.weightsSha256 : null,
    backend: typeof m!.backend === 'string' ? m!.backend : null,
    defense: m!.defense ?? null,
  };
}
