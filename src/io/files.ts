// Runtime file I/O shared by model, dataset and report writers: atomic writes and reads with clear errors.
// Uses node:fs, which Bun and Deno both implement.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes `data` so readers see the old file or the new one, never a mix: a temp file in the same directory
 * (same file system, so rename is atomic), fsync, rename over `path`, fsync the directory. Creates the
 * parent directory; removes the temp file if anything fails, leaving the old file untouched.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(tmp, 'wx'); // 'x': never clobber someone else's temp file
    await handle.writeFile(data);
    await handle.sync(); // data on disk before the rename makes it visible
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (e) {
    await handle?.close().catch(() => {});
    await rm(tmp, { force: true }).catch(() => {});
    throw new Error(`${path}: write failed: ${(e as Error).message}`, { cause: e });
  }
  await syncDir(dir);
}

/** Persists the rename itself; best effort because some platforms cannot open a directory for fsync. */
async function syncDir(dir: string): Promise<void> {
  try {
    const h = await open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    // NOTE: Windows and some runtimes refuse to fsync a directory; the file data is already synced.
  }
}

/** Reads a whole file; a missing one gives "<path>: file not found (<what>)" instead of a raw ENOENT. */
export async function readFileOrThrow(path: string, what: string): Promise<Uint8Array> {
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${path}: file not found (${what})`, { cause: e });
    if (code === 'EISDIR')
      throw new Error(`${path}: is a directory, expected a file (${what})`, { cause: e });
    throw new Error(`${path}: cannot read (${what}): ${(e as Error).message}`, { cause: e });
  }
}
