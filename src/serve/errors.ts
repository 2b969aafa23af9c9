// The one error type routes throw for client-visible failures; app.ts turns it into {"error": "..."} (plus a
// machine-readable "code" where one is given) with its status and headers. Anything else reaching the error handler is a server fault (generic 500).

/** Statuses a client can cause or be told to retry after. */
export type ClientStatus = 400 | 401 | 403 | 404 | 413 | 415 | 429 | 503;

export class HttpError extends Error {
  constructor(
    readonly status: ClientStatus,
    message: string,
    readonly headers: Record<string, string> = {},
    /** A stable identifier clients can branch on (e.g. 'query_attack_detected'); the message may change. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** 503 with Retry-After (whole seconds, at least 1). */
export function unavailable(message: string, retryAfterS = 1): HttpError {
  return new HttpError(503, message, {
    'Retry-After': String(Math.max(1, Math.ceil(retryAfterS))),
  });
}
