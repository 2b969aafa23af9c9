// A small reader for uncompressed tar archives (POSIX ustar, plus GNU long names and pax `path` records),
// in pure TS so unpacking works identically in Bun, Deno and Node without a system `tar`.
import { DatasetError } from './dataset-error.ts';

/** One archive member: a regular file (with its bytes, a view into the archive) or a directory. */
export interface TarEntry {
  path: string;
  type: 'file' | 'directory';
  data: Uint8Array;
}

const BLOCK = 512;
const decoder = new TextDecoder();

/** NUL-terminated string field. */
function str(b: Uint8Array, off: number, len: number): string {
  const f = b.subarray(off, off + len);
  const end = f.indexOf(0);
  return decoder.decode(end < 0 ? f : f.subarray(0, end));
}

/** Octal numeric field (NUL/space padded). */
function octal(b: Uint8Array, off: number, len: number, file: string, what: string): number {
  const s = str(b, off, len).trim();
  if (!/^[0-7]*$/.test(s))
    throw new DatasetError(
      file,
      `tar header at byte ${off - (off % BLOCK)}: bad ${what} field '${s}'`,
    );
  return s === '' ? 0 : parseInt(s, 8);
}

/** Rejects absolute paths and `..` so an archive can never write outside its target folder. */
function safePath(path: string, file: string, at: number): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (path.startsWith('/') || parts.includes('..') || path.includes('\\')) {
    throw new DatasetError(file, `tar member at byte ${at} has an unsafe path '${path}'`);
  }
  return parts.join('/');
}

/**
 * Lists the regular files and directories of a tar archive held in memory, verifying each header checksum.
 * Links and device files are refused (a dataset has no business containing them). `file` names the
 * archive in errors.
 */
export function readTar(archive: Uint8Array, file: string): TarEntry[] {
  const out: TarEntry[] = [];
  let longName: string | undefined;
  let at = 0;
  while (at + BLOCK <= archive.length) {
    const h = archive.subarray(at, at + BLOCK);
    if (h.every((b) => b === 0)) break; // end-of-archive marker (two zero blocks; one is enough to stop)
    // Checksum: sum of the header bytes with the checksum field itself counted as spaces.
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
    const stored = octal(h, 148, 8, file, 'checksum');
    if (stored !== sum)
      throw new DatasetError(
        file,
        `tar header at byte ${at}: checksum ${stored} != computed ${sum} (corrupt archive)`,
      );
    const size = octal(h, 124, 12, file, 'size');
    const type = String.fromCharCode(h[156] || 0x30);
    const dataStart = at + BLOCK;
    if (dataStart + size > archive.length) {
      throw new DatasetError(
        file,
        `truncated: tar member at byte ${at} needs ${size} bytes, archive ends at ${archive.length}`,
      );
    }
    const data = archive.subarray(dataStart, dataStart + size);
    let name = str(h, 0, 100);
    if (str(h, 257, 6) === 'ustar') {
      const prefix = str(h, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    if (longName !== undefined) {
      name = longName;
      longName = undefined;
    }
    if (type === 'L') {
      longName = str(data, 0, data.length);
    } else if (type === 'x') {
      // pax extended header: "<len> <key>=<value>\n" records; only `path` matters here.
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(decoder.decode(data));
      if (m) longName = m[1];
    } else if (type === 'g') {
      // global pax header: nothing this reader needs
    } else if (type === '0' || type === '7') {
      out.push({ path: safePath(name, file, at), type: 'file', data });
    } else if (type === '5') {
      out.push({ path: safePath(name, file, at), type: 'directory', data: new Uint8Array(0) });
    } else {
      throw new DatasetError(
        file,
        `tar member '${name}' at byte ${at} has unsupported type '${type}' (links are refused)`,
      );
    }
    at = dataStart + Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}
