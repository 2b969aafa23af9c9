// The file reads of the dataset loaders, turning IO failures into DatasetErrors that name the path.
import { readFile } from 'node:fs/promises';
import { DatasetError } from './dataset-error.ts';

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
    if (code === 'ENOENT')
      throw new DatasetError(path, `file not found${hint ? `; ${hint}` : ''}`, { cause: err });
    if (code === 'EISDIR')
      throw new DatasetError(path, 'is a directory, expected a file', { cause: err });
    throw new DatasetError(path, `cannot read: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Reads several files concurrently; when some fail, throws the error of the first one in list order, so
 * the message is the same on every run whatever order the reads finish in.
 */
export async function readDataFiles(
  paths: readonly string[],
  hint?: string,
): Promise<Uint8Array[]> {
  const results = await Promise.allSettled(paths.map((p) => readDataFile(p, hint)));
  return results.map((r) => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  });
}
