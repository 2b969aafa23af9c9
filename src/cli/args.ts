// Command-line parsing shared by the subcommands, bench and scripts: strict flags with --help/-h, unknown flags
// named with the valid ones listed, and typed flag readers whose errors name the flag.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A usage error: printed without a stack trace, exit code 2. */
export class UsageError extends Error {}

/** Thrown by parse when argv asks for --help or -h: the caller prints its usage on stdout and exits 0. */
export class HelpRequested extends Error {
  constructor() {
    super('help requested');
  }
}

export type FlagOptions = NonNullable<ParseArgsConfig['options']>;
export type FlagValues = Record<string, string | boolean | undefined>;

const HELP = { help: { type: 'boolean', short: 'h' } } as const;

/** Flag options by name: `flags('model eps out', 'force')` declares three string flags and a boolean one. */
export function flags(strings: string, booleans = ''): FlagOptions {
  const options: FlagOptions = {};
  for (const name of strings.split(' ').filter(Boolean)) options[name] = { type: 'string' };
  for (const name of booleans.split(' ').filter(Boolean)) options[name] = { type: 'boolean' };
  return options;
}

/**
 * Help, then unknown flags, by scanning argv (up to `--`) before parseArgs: a --help or -h anywhere wins over
 * any other error, so it never starts work; an unknown flag is named with the whole list of valid ones, not
 * parseArgs' bare "Unknown option". The word after a string flag is its value, never taken for a flag here.
 */
function scan(argv: readonly string[], options: FlagOptions): void {
  const end = argv.indexOf('--');
  const args = end < 0 ? argv : argv.slice(0, end);
  if (args.includes('--help') || args.includes('-h')) throw new HelpRequested();
  const shorts = new Map(
    Object.entries(options)
      .filter(([, o]) => o.short)
      .map(([name, o]) => [o.short!, name]),
  );
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('-') || a === '-') continue;
    const name = a.startsWith('--') ? a.slice(2).split('=')[0] : shorts.get(a.slice(1, 2));
    const option = name === undefined ? undefined : options[name];
    if (!option) {
      const valid = Object.keys(options)
        .map((k) => `--${k}`)
        .join(', ');
      throw new UsageError(
        `unknown flag ${a.startsWith('--') ? a.split('=')[0] : a} (valid flags: ${valid})`,
      );
    }
    if (option.type === 'string' && !a.includes('=') && a.startsWith('--')) i++;
  }
}

/** Strict flags, no positionals. Throws HelpRequested for --help/-h and UsageError for anything wrong. */
export function parse(argv: string[], options: FlagOptions): FlagValues {
  return parseWithPositionals(argv, options, false).values;
}

/** parse() for commands that also take positional arguments (file names, model names). */
export function parseWithPositionals(
  argv: string[],
  options: FlagOptions,
  allowPositionals = true,
): { values: FlagValues; positionals: string[] } {
  const all = { ...options, ...HELP };
  scan(argv, all);
  try {
    const r = parseArgs({ args: argv, options: all, strict: true, allowPositionals });
    const values = r.values as FlagValues;
    delete values.help;
    return { values, positionals: r.positionals };
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
export function number(
  values: Record<string, unknown>,
  name: string,
  fallback: number,
  { integer = false, min = -Infinity, max = Infinity } = {},
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (
    typeof raw !== 'string' ||
    raw.trim() === '' ||
    !Number.isFinite(v) ||
    (integer && !Number.isInteger(v)) ||
    v < min ||
    v > max
  ) {
    throw new UsageError(
      `--${name}: expected ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got '${String(raw)}'`,
    );
  }
  return v;
}

/** Reads a radius flag written as a number or a fraction (`0.1`, `8/255`), in (0, max]; undefined when absent. */
export function radius(values: Record<string, unknown>, name: string, max = 1): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const frac = typeof raw === 'string' ? /^\s*([0-9.]+)\s*\/\s*([0-9.]+)\s*$/.exec(raw) : null;
  const v = frac
    ? Number(frac[1]) / Number(frac[2])
    : typeof raw === 'string' && raw.trim() !== ''
      ? Number(raw)
      : NaN;
  if (!Number.isFinite(v) || v <= 0 || v > max)
    throw new UsageError(
      `--${name}: expected a number or a fraction in (0, ${max}], e.g. 0.1 or 8/255, got '${String(raw)}'`,
    );
  return v;
}

export function choice<T extends string>(
  values: Record<string, unknown>,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const v = values[name] ?? fallback;
  if (!allowed.includes(v as T))
    throw new UsageError(`--${name}: expected one of ${allowed.join(', ')}, got '${String(v)}'`);
  return v as T;
}
