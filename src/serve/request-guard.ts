// The first middleware of every request: refuses what no route may see. A request URL that is not absolute
// (an HTTP/1.0 request without a Host header reaches the app as a bare path, which the router would
// mis-split) gets 400 instead of a wrong route, and a declared body larger than every limit gets the app's
// JSON 413 before any route runs (routes also cap what they stream; see body.ts).
import type { MiddlewareHandler } from 'hono';
import type { ServeEnv } from './context.ts';
import { HttpError } from './errors.ts';
import type { Limits } from './options.ts';

/** Whether `url` is an absolute http(s) URL with a host: the only kind the router splits correctly. */
export function routableUrl(url: string): boolean {
  if (!/^https?:\/\/[^/?#]/i.test(url)) return false;
  try {
    return new URL(url).host !== '';
  } catch {
    return false;
  }
}

export const UNROUTABLE_MESSAGE =
  'cannot route this request: its target is not an absolute URL (send a Host header)';

export function requestGuard(limits: Limits): MiddlewareHandler<ServeEnv> {
  const largest = Math.max(limits.maxBodyBytes, limits.maxImageBytes);
  return async (c, next) => {
    if (!routableUrl(c.req.url)) {
      throw new HttpError(400, UNROUTABLE_MESSAGE);
    }
    const declared = c.req.header('content-length');
    if (declared !== undefined) {
      if (!/^\s*\d{1,16}\s*$/.test(declared))
        throw new HttpError(400, `malformed Content-Length '${declared.slice(0, 40)}'`);
      if (Number(declared) > largest)
        throw new HttpError(
          413,
          `request body of ${Number(declared)} bytes is larger than the largest limit of ${largest} bytes`,
        );
    }
    await next();
  };
}
