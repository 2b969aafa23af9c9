// DatasetError, the one error type of src/data. Every message names the file and the problem, so a broken
// dataset points straight at the file to fix.

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
