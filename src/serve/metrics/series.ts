// The server's Prometheus series (text exposition format 0.0.4), hand-rolled: a few counters, one latency
// histogram and gauges read at scrape time. Label values are escaped as the format requires.
import type { ShedReason } from '../scheduler.ts';

/** Histogram bucket bounds in seconds (upper bounds; +Inf is implied). */
export const LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (l: Record<string, string>) =>
  `{${Object.entries(l)
    .map(([k, v]) => `${k}="${esc(v)}"`)
    .join(',')}}`;

export interface GaugeSources {
  queueDepth: () => number;
  inFlight: () => number;
  /** Model name → backend its inference ran on (known after warm-up). */
  backends: () => Iterable<[string, string]>;
  /** The detector store's size, when detection is on. */
  detectStore?: () => { queries: number; bytes: number | null } | null;
}

export class Metrics {
  private readonly requests = new Map<
    string,
    { route: string; method: string; status: string; n: number }
  >();
  private readonly latency = new Map<string, { buckets: number[]; sum: number; count: number }>();
  private readonly sheds = new Map<ShedReason, number>([
    ['queue_full', 0],
    ['deadline', 0],
    ['budget_store', 0],
    ['not_ready', 0],
    ['detect_store', 0],
  ]);
  private budgetRejections = 0;
  private readonly detections = { suspicious: 0, flagged: new Map<string, number>(), refused: 0 };
  private readonly images = new Map<string, number>();

  constructor(private readonly gauges: GaugeSources) {}

  /** One answered request; `route` is the route pattern (bounded label set), never the raw path. */
  observe(route: string, method: string, status: number, seconds: number): void {
    const key = `${route}\u0000${method}\u0000${status}`;
    const r = this.requests.get(key) ?? { route, method, status: String(status), n: 0 };
    r.n++;
    this.requests.set(key, r);
    const h = this.latency.get(route) ?? {
      buckets: LATENCY_BUCKETS.map(() => 0),
      sum: 0,
      count: 0,
    };
    LATENCY_BUCKETS.forEach((b, i) => {
      if (seconds <= b) h.buckets[i]++;
    });
    h.sum += seconds;
    h.count++;
    this.latency.set(route, h);
  }

  shed(reason: ShedReason): void {
    this.sheds.set(reason, (this.sheds.get(reason) ?? 0) + 1);
  }

  budgetRejected(): void {
    this.budgetRejections++;
  }

  detectSuspicious(n: number): void {
    this.detections.suspicious += n;
  }

  detectFlagged(mode: string): void {
    this.detections.flagged.set(mode, (this.detections.flagged.get(mode) ?? 0) + 1);
  }

  detectRefused(): void {
    this.detections.refused++;
  }

  inferred(model: string, images: number): void {
    this.images.set(model, (this.images.get(model) ?? 0) + images);
  }

  /** The exposition text. */
  render(): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string) =>
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    family(
      'hashguard_http_requests_total',
      'counter',
      'HTTP requests answered, by route pattern, method and status.',
    );
    for (const r of this.requests.values())
      out.push(
        `hashguard_http_requests_total${labels({ route: r.route, method: r.method, status: r.status })} ${r.n}`,
      );
    family(
      'hashguard_http_request_duration_seconds',
      'histogram',
      'Time from request to response, by route pattern.',
    );
    for (const [route, h] of this.latency) {
      LATENCY_BUCKETS.forEach((b, i) =>
        out.push(
          `hashguard_http_request_duration_seconds_bucket${labels({ route, le: String(b) })} ${h.buckets[i]}`,
        ),
      );
      out.push(
        `hashguard_http_request_duration_seconds_bucket${labels({ route, le: '+Inf' })} ${h.count}`,
      );
      out.push(`hashguard_http_request_duration_seconds_sum${labels({ route })} ${h.sum}`);
      out.push(`hashguard_http_request_duration_seconds_count${labels({ route })} ${h.count}`);
    }
    family('hashguard_queue_depth', 'gauge', 'Inference requests waiting for a worker.');
    out.push(`hashguard_queue_depth ${this.gauges.queueDepth()}`);
    family('hashguard_inflight_requests', 'gauge', 'Inference requests running on workers.');
    out.push(`hashguard_inflight_requests ${this.gauges.inFlight()}`);
    family('hashguard_shed_total', 'counter', 'Requests shed with 503, by reason.');
    for (const [reason, n] of this.sheds)
      out.push(`hashguard_shed_total${labels({ reason })} ${n}`);
    family(
      'hashguard_budget_rejections_total',
      'counter',
      'Requests refused with 429 because a client query budget was spent.',
    );
    out.push(`hashguard_budget_rejections_total ${this.budgetRejections}`);
    family(
      'hashguard_query_attack_suspicious_queries_total',
      'counter',
      "Queries that matched one of the same client's recent queries (or a crowd of others').",
    );
    out.push(`hashguard_query_attack_suspicious_queries_total ${this.detections.suspicious}`);
    family(
      'hashguard_query_attacks_detected_total',
      'counter',
      'Clients flagged as running a query attack, by detector mode.',
    );
    for (const [mode, n] of this.detections.flagged)
      out.push(`hashguard_query_attacks_detected_total${labels({ mode })} ${n}`);
    family(
      'hashguard_query_attack_refusals_total',
      'counter',
      'Requests refused with 403 query_attack_detected.',
    );
    out.push(`hashguard_query_attack_refusals_total ${this.detections.refused}`);
    const usage = this.gauges.detectStore?.();
    if (usage) {
      family('hashguard_detect_store_queries', 'gauge', 'Query fingerprints the detector holds.');
      out.push(`hashguard_detect_store_queries ${usage.queries}`);
      if (usage.bytes !== null) {
        family(
          'hashguard_detect_store_bytes',
          'gauge',
          'Memory the detector store holds, in bytes.',
        );
        out.push(`hashguard_detect_store_bytes ${usage.bytes}`);
      }
    }
    family('hashguard_images_inferred_total', 'counter', 'Images classified, by model.');
    for (const [model, n] of this.images)
      out.push(`hashguard_images_inferred_total${labels({ model })} ${n}`);
    family('hashguard_backend_info', 'gauge', 'Backend that runs each model (value 1).');
    for (const [model, backend] of this.gauges.backends())
      out.push(`hashguard_backend_info${labels({ model, backend })} 1`);
    return `${out.join('\n')}\n`;
  }
}
