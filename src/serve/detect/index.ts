// Stateful query-attack detection (docs/detection.md): every query's fingerprint, taken after the model's own
// preprocessing, is matched against recent queries of every client; a client whose queries keep matching is
// flagged, logged with its evidence, counted, and under `block` refused with 403 for the ban period.
import type { FingerprintParams } from '../../hash/index.ts';
import { sha256Hex } from '../../hash/index.ts';
import { HttpError, unavailable } from '../errors.ts';
import { LruMap } from '../lru-map.ts';
import { storeAnswers } from '../store-health.ts';
import type { DetectSettings } from './settings.ts';
import type { DetectStore, RowMatches } from './store.ts';

import { DEFAULT_DETECT_SEED } from './settings.ts';
export {
  DEFAULT_DETECT,
  DEFAULT_DETECT_SEED,
  DETECT_MODES,
  resolveDetect,
  type DetectMode,
  type DetectSettings,
} from './settings.ts';
export { MemoryDetectStore, type DetectStore, type RowMatches } from './store.ts';

/** What the detector reports to the server (metrics and log). */
export interface DetectEvents {
  suspicious(n: number): void;
  flagged(client: string, evidence: string): void;
  refused(): void;
}

const KEY_CACHE = 10_000;

/** The 403 every refused query gets; `code` is what clients branch on. */
function refusal(seconds: number): HttpError {
  return new HttpError(
    403,
    `query attack detected: this client's queries repeat near-copies of earlier ones; refused for ${seconds} s`,
    { 'Retry-After': String(seconds) },
    'query_attack_detected',
  );
}

export class QueryDetector {
  readonly fingerprint: FingerprintParams;

  constructor(
    readonly settings: DetectSettings,
    readonly store: DetectStore,
    private readonly events: DetectEvents,
    seed = DEFAULT_DETECT_SEED,
    private readonly now: () => number = Date.now,
  ) {
    this.fingerprint = { ...settings.fingerprint, seed };
  }

  private readonly keys = new LruMap<string, string>(KEY_CACHE);

  /**
   * The stored key of a client identity: in a shared store a hash, so identities never sit there in clear (the
   * last KEY_CACHE identities' keys are kept, so a returning client costs no digest); in this process's own store
   * the identity itself, which never leaves the process.
   */
  async key(identity: string): Promise<string> {
    if (!this.store.shared) return identity;
    const hit = this.keys.get(identity);
    if (hit !== undefined) return hit;
    const key = (await sha256Hex(`detect:${identity}`)).slice(0, 32);
    this.keys.set(identity, key);
    return key;
  }

  /** Before inference: 403 while the client is banned (block mode), 503 when the store cannot answer. */
  async admit(key: string): Promise<void> {
    if (this.settings.mode !== 'block') return;
    let ms: number;
    try {
      ms = await this.store.bannedFor(key, this.now());
    } catch {
      throw unavailable('query detector store unavailable');
    }
    if (ms > 0) {
      this.events.refused();
      throw refusal(Math.max(1, Math.ceil(ms / 1000)));
    }
  }

  /**
   * After inference, before the answer leaves: stores the request's fingerprints and judges the client. A query
   * is suspicious when it matches one of the client's own recent queries, or `crowd` of other clients'. With
   * `flagAfter` suspicious among its last `window` queries the client is flagged (logged and counted when it
   * first gets there) and, under block, banned: this answer is withheld too (403).
   */
  async judge(key: string, identity: string, rows: readonly Uint32Array[]): Promise<void> {
    if (!rows.length) return;
    const now = this.now();
    let matches: RowMatches[];
    let count: { before: number; after: number };
    const { crowd, flagAfter, window, mode } = this.settings;
    try {
      matches = await this.store.observe(key, rows, now);
      const verdicts = matches.map((m) => m.own >= 1 || m.others >= crowd);
      const n = verdicts.filter(Boolean).length;
      if (n) this.events.suspicious(n);
      count = await this.store.record(key, verdicts, now);
      if (count.after < flagAfter) return;
      if (mode === 'block') await this.store.ban(key, now + this.settings.banMs, now);
    } catch {
      throw unavailable('query detector store unavailable');
    }
    if (count.before < flagAfter) {
      const last = matches[matches.length - 1];
      this.events.flagged(
        identity,
        `${count.after} of its last ${window} queries were near-copies of recent queries; the last matched ${last.own} of its own and ${last.others} of other clients' stored queries`,
      );
    }
    if (this.settings.mode === 'block') {
      this.events.refused();
      throw refusal(Math.ceil(this.settings.banMs / 1000));
    }
  }

  /** Whether the store answers (readiness). */
  healthy(): Promise<boolean> {
    return storeAnswers(this.store);
  }
}
