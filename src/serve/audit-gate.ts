// --require-audit: a model counts as ready only once an audit report for its exact weights (sha256) exists in
// the audit folder, so a deployment can refuse to serve weights nobody has measured. Found reports are
// remembered (reports are never un-made); a miss is re-checked at most once a second, so polling is cheap.
import type { LoadedModel } from '../nn/index.ts';
import { unavailable } from './errors.ts';
import type { ServedModel } from './registry.ts';
import type { AuditIndex } from './audit-index.ts';

const RECHECK_MS = 1000;

export class AuditGate {
  private readonly audited = new Set<string>();
  private readonly missChecked = new Map<string, number>();

  constructor(
    private readonly audits: AuditIndex,
    private readonly dir: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a report for these weights exists (cached as described above). */
  async has(sha: string): Promise<boolean> {
    if (this.audited.has(sha)) return true;
    const last = this.missChecked.get(sha);
    if (last !== undefined && this.now() - last < RECHECK_MS) return false;
    if (await this.audits.latestFor(sha)) {
      this.audited.add(sha);
      this.missChecked.delete(sha);
      return true;
    }
    this.missChecked.set(sha, this.now());
    return false;
  }

  /** Throws 503 (Retry-After 30) naming the weights when the model has no audit yet. */
  async assertAudited(m: ServedModel & { loaded: LoadedModel }): Promise<void> {
    const sha = m.loaded.manifest.weights.sha256;
    if (!(await this.has(sha)))
      throw unavailable(
        `model '${m.name}' is not ready: no audit report for weights ${sha} in ${this.dir} (--require-audit)`,
        30,
      );
  }
}
