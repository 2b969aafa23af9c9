// Flags of the bench and scripts entry points (bun bench/*.ts, bun scripts/*.ts): args.ts' parsing, with --help
// answered on stdout (exit 0) and usage errors on stderr (exit 2), before the script does any work.
import { commandArgs, exitProcess } from '../runtime/index.ts';
import {
  HelpRequested,
  parseWithPositionals,
  UsageError,
  type FlagOptions,
  type FlagValues,
} from './args.ts';

/** Prints `error: message` and the usage on stderr, exits 2. */
export function usageExit(usage: string, message: string): never {
  console.error(`error: ${message}\n${usage}`);
  exitProcess(2);
}

/** fn's result; HelpRequested prints the usage on stdout and exits 0, a UsageError exits 2 with the usage. */
export function withUsage<T>(usage: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof HelpRequested) {
      console.log(usage);
      exitProcess(0);
    }
    if (e instanceof UsageError) usageExit(usage, e.message);
    throw e;
  }
}

/**
 * The script's flags (and positionals when `positionals`), or an exit: --help/-h prints `usage` and exits 0, an
 * unknown or malformed flag exits 2 naming it. Call it before any work, at the top of the entry point.
 */
export function scriptArgs(
  usage: string,
  options: FlagOptions,
  { argv = commandArgs(), positionals = false } = {},
): { values: FlagValues; positionals: string[] } {
  return withUsage(usage, () => parseWithPositionals(argv, options, positionals));
}

/** scriptArgs without positionals: the flag values. */
export function scriptFlags(
  usage: string,
  options: FlagOptions = {},
  argv = commandArgs(),
): FlagValues {
  return scriptArgs(usage, options, { argv }).values;
}
