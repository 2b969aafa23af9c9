// The query-attack detector's settings: what it fingerprints, when two queries match, when a client is flagged
// and for how long, and how much history it keeps. Defaults are the measured choice (docs/detection.md).
import type { FingerprintParams } from '../../hash/index.ts';

/** off: no fingerprints; log: flag and count but answer; block: flagged clients get 403 for banMs. */
export type DetectMode = 'off' | 'log' | 'block';
export const DETECT_MODES: readonly DetectMode[] = ['off', 'log', 'block'];

export interface DetectSettings {
  mode: DetectMode;
  /** Pooling, quantization step, patch size, grids and hashes kept per query (fingerprint()); the seed is the server's. */
  fingerprint: Omit<FingerprintParams, 'seed'>;
  /** Share of the smaller fingerprint two queries must have in common to match. */
  matchShare: number;
  /** Hashes two queries must share at least to match (near-blank inputs match nothing). */
  matchLeast: number;
  /** Matches with other clients' stored queries that make a query suspicious on their own (a crowd of near-copies). */
  crowd: number;
  /** Suspicious queries among the client's last `window` queries that flag it. */
  flagAfter: number;
  /** How many of a client's latest queries are weighed (at most 32). */
  window: number;
  /** How long fingerprints and suspicious counts are kept (ms). */
  historyMs: number;
  /** Most queries whose fingerprints are kept at once (oldest forgotten first): bounds memory. */
  maxQueries: number;
  /** Stored queries remembered per hash (the most recent first). */
  perHash: number;
  /** How long a flagged client is refused under block (ms). */
  banMs: number;
  /** Clients whose counts and bans the in-memory store tracks at once (least recently seen dropped). */
  maxClients: number;
}

export const DEFAULT_DETECT: DetectSettings = {
  mode: 'block',
  fingerprint: { pool: 2, step: 0.25, patch: 2, tables: 2, topK: 128 },
  matchShare: 0.5,
  matchLeast: 8,
  crowd: 5,
  flagAfter: 5,
  window: 20,
  historyMs: 3_600_000,
  maxQueries: 20_000,
  perHash: 4,
  banMs: 3_600_000,
  maxClients: 100_000,
};

/** Seed of the fingerprint's patch hash unless configured: fleet instances must share it to match queries. */
export const DEFAULT_DETECT_SEED = 0x6b1c3d27;

const positive = (name: string, v: number, min = 1, max = Number.MAX_SAFE_INTEGER) => {
  if (!Number.isSafeInteger(v) || v < min || v > max)
    throw new RangeError(`detect.${name}: expected an integer in [${min}, ${max}], got ${v}`);
};

/** Fills in defaults and rejects nonsense early (a typo should fail at startup, not per request). */
export function resolveDetect(
  partial: Partial<Omit<DetectSettings, 'fingerprint'>> & {
    fingerprint?: Partial<DetectSettings['fingerprint']>;
  } = {},
): DetectSettings {
  const s: DetectSettings = {
    ...DEFAULT_DETECT,
    ...partial,
    fingerprint: { ...DEFAULT_DETECT.fingerprint, ...partial.fingerprint },
  };
  if (!DETECT_MODES.includes(s.mode))
    throw new RangeError(`detect.mode: expected off, log or block, got '${s.mode}'`);
  positive('fingerprint.pool', s.fingerprint.pool, 1, 64);
  positive('fingerprint.patch', s.fingerprint.patch, 1, 16);
  positive('fingerprint.tables', s.fingerprint.tables, 1, 8);
  positive('fingerprint.topK', s.fingerprint.topK, 1, 1024);
  // A cell's level, floor((mean + offset) / step) ≤ 1 / step + 1, must fit the byte fingerprint() packs it in.
  if (!(s.fingerprint.step >= 1 / 254 && s.fingerprint.step <= 1))
    throw new RangeError(
      `detect.fingerprint.step: expected a number in [1/254, 1], got ${s.fingerprint.step}`,
    );
  if (!(s.matchShare > 0 && s.matchShare <= 1))
    throw new RangeError(`detect.matchShare: expected a number in (0, 1], got ${s.matchShare}`);
  positive('matchLeast', s.matchLeast, 1, s.fingerprint.topK);
  positive('crowd', s.crowd);
  positive('window', s.window, 1, 32);
  positive('flagAfter', s.flagAfter, 1, s.window);
  positive('historyMs', s.historyMs);
  positive('maxQueries', s.maxQueries, 1, 10_000_000);
  positive('perHash', s.perHash, 1, 64);
  positive('banMs', s.banMs);
  positive('maxClients', s.maxClients);
  return s;
}
