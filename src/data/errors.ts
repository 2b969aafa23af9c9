// DatasetError, the one error type of src/data, and the file read that turns IO failures into it. Every
// message names the file and the problem, so a broken dataset points straight at the file to fix.
import { readFile } from 'node:fs/promises';

/** A dataset file is missing, truncated, malformed or has the wrong checksum. `message` = `<file>: <problem>`. */
export class DatasetError extends Error {
  /** Path (or display name) of the offending file. */
  readonly file: string;
  /** What is wrong with it, without the path. */
  readonly problem: string;

  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options);
    this.name = 'DatasetError';
    this.file = file;
    this.problem = problem;
  }
}

/**
 * Reads a whole file as bytes; a missing or unreadable file becomes a DatasetError naming the path.
 * `hint` (e.g. what to install) is appended to the "not found" message.
 */
export async function readDataFile(path: string, hint?: string): Promise<Uint8Array> {
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') throw new DatasetError(path, `file not found${hint ? `; ${hint}` : ''}`, { cause: err });
    if (code === 'EISDIR') throw new DatasetError(path, 'is a directory, expected a file', { cause: err });
    throw new DatasetError(path, `cannot read: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Reads several files concurrently; when some fail, throws the error of the first one in list order, so
 * the message is the same on every run whatever order the reads finish in.
 */
export async function readDataFiles(paths: readonly string[], hint?: string): Promise<Uint8Array[]> {
  const results = await Promise.allSettled(paths.map((p) => readDataFile(p, hint)));
  return results.map((r) => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  });
}
