// SHA-256 as lowercase hex through WebCrypto (crypto.subtle exists in Bun, Deno, browsers and Node 20), for
// model, checkpoint and dataset checksums. The one copy in the project.

/** sha256 of bytes (or of a string's UTF-8 bytes) as 64 lowercase hex digits. */
export async function sha256Hex(bytes: Uint8Array | string): Promise<string> {
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  // WebCrypto rejects SharedArrayBuffer-backed views: copy the rare one into a fresh ArrayBuffer.
  const view =
    data.buffer instanceof ArrayBuffer ? (data as Uint8Array<ArrayBuffer>) : new Uint8Array(data);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', view));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
