// Listing an ImageFolder tree before anything is read: its layout (`DIR/<class>/<image>` or
// `DIR/train|test/<class>/<image>`), class folders and image files in code-unit order, and the errors that
// name what is wrong (missing root, no classes, an empty class, class sets that differ, too many images).
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetError } from './dataset-error.ts';

/** File name endings read as images (case-insensitive); other files are skipped and counted. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

/** Most images one tree may hold (loaded images, after any per-class limit). */
export const DEFAULT_MAX_IMAGES = 1_000_000;

/** Labels are bytes. */
const MAX_CLASSES = 256;

/** One class folder: its name, path and image file names, sorted. */
export interface ClassFolder {
  name: string;
  dir: string;
  files: string[];
}

/** Entries passed over: non-image files and folders nested in a class folder (hidden ones are not counted). */
export interface Skipped {
  count: number;
  /** The first one met, as a path. */
  first?: string;
}

/** What scanImageTree found. */
export interface ImageTreeScan {
  /** 'classes' = DIR/<class>/<image>, split by seed; 'splits' = DIR/train/<class> and DIR/test/<class>. */
  layout: 'classes' | 'splits';
  /** The class folders of the one tree ('classes') or of train/ ('splits'). */
  train: ClassFolder[];
  /** test/'s class folders, same names as train/'s ('splits' only). */
  test?: ClassFolder[];
  skipped: Skipped;
}

// Code-unit order, not localeCompare: class indices must not depend on the machine's locale.
export const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const isImageName = (n: string) => IMAGE_EXTENSIONS.some((e) => n.toLowerCase().endsWith(e));

async function listDir(dir: string, what: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') throw new DatasetError(dir, `${what} not found`, { cause: err });
    if (code === 'ENOTDIR')
      throw new DatasetError(dir, `${what} is not a directory`, { cause: err });
    throw new DatasetError(dir, `cannot list ${what}: ${(err as Error).message}`, { cause: err });
  }
}

/** Throws a DatasetError unless `root` is an existing directory. */
export async function checkRoot(root: string): Promise<void> {
  let isDir: boolean;
  try {
    isDir = (await stat(root)).isDirectory();
  } catch (err) {
    throw new DatasetError(root, 'ImageFolder root not found', { cause: err });
  }
  if (!isDir) throw new DatasetError(root, 'ImageFolder root is not a directory');
}

/**
 * The class folders under `dir` (`what` names it in errors), each with its image files sorted by name, at most
 * `limit` per class. Non-image files and nested folders are added to `skipped`; hidden entries are ignored.
 */
export async function scanClasses(
  dir: string,
  what: string,
  skipped: Skipped,
  limit?: number,
): Promise<ClassFolder[]> {
  const entries = (await listDir(dir, what)).filter((e) => !e.name.startsWith('.'));
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort(byName);
  if (names.length === 0) {
    const images = entries.filter((e) => !e.isDirectory() && isImageName(e.name)).length;
    throw new DatasetError(
      dir,
      'no class folders (expected <class>/<image> subfolders)' +
        (images ? `; it holds ${images} images itself: put them in a folder per class` : ''),
    );
  }
  if (names.length > MAX_CLASSES)
    throw new DatasetError(dir, `${names.length} class folders: labels are bytes, at most 256`);
  const classes: ClassFolder[] = [];
  for (const name of names) {
    const classDir = join(dir, name);
    const files: string[] = [];
    let others = 0;
    for (const e of await listDir(classDir, 'class folder')) {
      if (e.name.startsWith('.')) continue; // .DS_Store, editor files
      if ((e.isFile() || e.isSymbolicLink()) && isImageName(e.name)) files.push(e.name);
      else {
        others++;
        skipped.count++;
        skipped.first ??= join(classDir, e.name);
      }
    }
    files.sort(byName);
    if (files.length === 0)
      throw new DatasetError(
        classDir,
        `class folder has no images${others ? ` (.png, .jpg or .jpeg; it holds ${others} other entries)` : ''}`,
      );
    classes.push({
      name,
      dir: classDir,
      files: limit === undefined ? files : files.slice(0, limit),
    });
  }
  return classes;
}

/** Throws unless `found` holds exactly the names of `expected`, listing the missing and extra ones. */
export function matchClasses(
  where: string,
  found: readonly string[],
  expected: readonly string[],
  whose: string,
): void {
  const missing = expected.filter((c) => !found.includes(c));
  const extra = found.filter((c) => !expected.includes(c));
  if (missing.length || extra.length)
    throw new DatasetError(
      where,
      `class folders do not match ${whose} classes:` +
        (missing.length ? ` missing ${missing.join(', ')};` : '') +
        (extra.length ? ` extra ${extra.join(', ')};` : '') +
        ` expected ${expected.join(', ')}`,
    );
}

/**
 * Lists a tree. It is 'splits' when `root` has both train/ and test/ folders (and nothing else beside them),
 * else 'classes'. `limit` caps the images per class; more than `maxImages` in all is an error.
 */
export async function scanImageTree(
  root: string,
  { limit, maxImages = DEFAULT_MAX_IMAGES }: { limit?: number; maxImages?: number } = {},
): Promise<ImageTreeScan> {
  await checkRoot(root);
  const folders = (await listDir(root, 'ImageFolder root'))
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name);
  const skipped: Skipped = { count: 0 };
  let scan: ImageTreeScan;
  if (folders.includes('train') && folders.includes('test')) {
    const others = folders.filter((f) => f !== 'train' && f !== 'test').sort(byName);
    if (others.length)
      throw new DatasetError(
        root,
        `has train/ and test/ beside other folders (${others.join(', ')}): use either ` +
          `<root>/train|test/<class>/<image> or <root>/<class>/<image>, not both`,
      );
    const train = await scanClasses(join(root, 'train'), "split folder 'train'", skipped, limit);
    const test = await scanClasses(join(root, 'test'), "split folder 'test'", skipped, limit);
    const names = (cs: ClassFolder[]) => cs.map((c) => c.name);
    matchClasses(join(root, 'test'), names(test), names(train), "train/'s");
    scan = { layout: 'splits', train, test, skipped };
  } else {
    scan = {
      layout: 'classes',
      train: await scanClasses(root, 'ImageFolder root', skipped, limit),
      skipped,
    };
  }
  const count = [...scan.train, ...(scan.test ?? [])].reduce((n, c) => n + c.files.length, 0);
  if (count > maxImages)
    throw new DatasetError(
      root,
      `${count} images, more than the limit of ${maxImages} images per tree`,
    );
  return scan;
}
