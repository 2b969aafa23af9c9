// The `hashguard` command-line entry: dispatches to subcommands and turns expected errors into one-line
// messages with a non-zero exit code instead of stack traces.
import { UsageError } from './args.ts';
import { evalCommand, evalUsage } from './eval.ts';
import { trainCommand, trainUsage } from './train.ts';
import { convertCommand, convertUsage } from './convert.ts';
import { hardenCommand, hardenUsage } from './harden.ts';
import { auditCommand, auditUsage } from './audit.ts';

const commands: Record<string, { run: (argv: string[]) => Promise<void>; usage: string }> = {
  train: { run: trainCommand, usage: trainUsage },
  eval: { run: evalCommand, usage: evalUsage },
  convert: { run: convertCommand, usage: convertUsage },
  harden: { run: hardenCommand, usage: hardenUsage },
  audit: { run: auditCommand, usage: auditUsage },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const cmd = name ? commands[name] : undefined;
  if (!cmd || rest.includes('--help')) {
    console.error(cmd ? cmd.usage : `usage: hashguard <${Object.keys(commands).join('|')}> [flags]  (--help for a command's flags)`);
    return cmd || name === '--help' ? 0 : 2;
  }
  try {
    await cmd.run(rest);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    const err = e as Error;
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}\n${cmd.usage}`);
      return 2;
    }
    // Data and model-file errors already name the file and problem: print the message, not the stack.
    console.error(`error: ${err.message}`);
    if (process.env.HASHGUARD_DEBUG) console.error(err.stack);
    return 1;
  }
}

process.exit(await main(process.argv.slice(2)));
