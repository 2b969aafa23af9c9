// Bounded request bodies: refuse by Content-Length before reading, then count bytes while streaming and stop
// at the cap, so no client can make the server buffer more than the limit. Media-type checks live here too.
import { HttpError } from './errors.ts';

/** The media type of a Content-Type header, lower-cased, without parameters ('' when absent). */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0].trim().toLowerCase();
}

/** 415 unless the request's media type is one of `allowed`. */
export function requireMediaType(header: string | undefined, allowed: readonly string[]): string {
  const type = mediaType(header);
  if (!allowed.includes(type))
    throw new HttpError(
      415,
      `unsupported content type '${type || '(none)'}': expected ${allowed.join(' or ')}`,
    );
  return type;
}

/** Reads the whole body, or throws 413 once it would pass `max` bytes (checked before and while reading). */
export async function readBody(req: Request, max: number): Promise<Uint8Array> {
  const tooLarge = () =>
    new HttpError(413, `request body is larger than the limit of ${max} bytes`);
  const declared = req.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > max)
    throw tooLarge();
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      // NOTE: Content-Length can lie (or be absent with chunked encoding): the streamed count decides.
      if (total > max) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw new HttpError(400, 'request body could not be read');
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Parses a UTF-8 JSON body, or throws 400 (never lets a parser error become a 500). */
export function parseJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, 'request body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    // JSON.parse messages quote the input; keep only a short position hint.
    throw new HttpError(400, `malformed JSON: ${String((e as Error).message).slice(0, 120)}`);
  }
}
