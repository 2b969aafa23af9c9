// Command-line parsing helpers shared by the subcommands: typed flag readers with errors that name the flag.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A usage error: printed without a stack trace, exit code 2. */
export class UsageError extends Error {}

export function parse(argv: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function requireString(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

/** Reads a numeric flag: integer when `integer`, within [min, max]; `fallback` when absent. */
export function number(values: Record<string, unknown>, name: string, fallback: number, { integer = false, min = -Infinity, max = Infinity } = {}): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    throw new UsageError(`--${name}: expected ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got '${String(raw)}'`);
  }
  return v;
}

export function choice<T extends string>(values: Record<string, unknown>, name: string, allowed: readonly T[], fallback: T): T {
  const v = values[name] ?? fallback;
  if (!allowed.includes(v as T)) throw new UsageError(`--${name}: expected one of ${allowed.join(', ')}, got '${String(v)}'`);
  return v as T;
}
