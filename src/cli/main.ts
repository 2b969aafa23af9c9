// The `hashguard` command-line entry: dispatches to subcommands, answers --help on stdout, and turns expected
// errors into one-line messages with a non-zero exit code instead of stack traces.
import { HelpRequested, UsageError } from './args.ts';
import { evalCommand, evalUsage } from './eval.ts';
import { trainCommand, trainUsage } from './train.ts';
import { convertCommand, convertUsage } from './convert.ts';
import { hardenCommand, hardenUsage } from './harden.ts';
import { auditCommand, auditUsage } from './audit.ts';
import { certifyCommand, certifyUsage } from './certify.ts';
import { importCommand, importUsage } from './import.ts';
import { exportCommand, exportUsage } from './export.ts';
import { serveCommand, serveUsage } from './serve.ts';
import { workerCommand, workerUsage } from './worker.ts';
import { Stopped, STOPPED_EXIT_CODE } from './stop.ts';
import {
  commandArgs,
  exitProcess,
  inWorkerThread,
  pendingExitCode,
  readEnv,
} from '../runtime/index.ts';

const commands: Record<
  string,
  { run: (argv: string[]) => Promise<void>; usage: string; what: string }
> = {
  train: {
    run: trainCommand,
    usage: trainUsage,
    what: 'train a dense or hashed classifier into a model directory',
  },
  eval: {
    run: evalCommand,
    usage: evalUsage,
    what: 'test accuracy of a model directory (its defense applied)',
  },
  convert: {
    run: convertCommand,
    usage: convertUsage,
    what: 'project a dense model onto hash buckets, optionally fine-tune',
  },
  harden: {
    run: hardenCommand,
    usage: hardenUsage,
    what: 'apply gradient-inhibition stages to a trained model',
  },
  audit: {
    run: auditCommand,
    usage: auditUsage,
    what: 'robustness audit of a hashed model family (or of a server, --url)',
  },
  certify: {
    run: certifyCommand,
    usage: certifyUsage,
    what: 'certified accuracy over an L∞ ball (sound bounds, no attack)',
  },
  worker: {
    run: workerCommand,
    usage: workerUsage,
    what: 'run the jobs of distributed audits from a Redis queue (audit --queue)',
  },
  serve: {
    run: serveCommand,
    usage: serveUsage,
    what: 'serve models over HTTP (Open Inference Protocol v2, :classify) until Ctrl-C',
  },
  import: {
    run: importCommand,
    usage: importUsage,
    what: 'import an ONNX classifier into a model directory',
  },
  export: {
    run: exportCommand,
    usage: exportUsage,
    what: 'write a model directory as an ONNX file (hashed layers expanded)',
  },
};

const mainUsage = `usage: hashguard <command> [flags]   (installed: npx hashguard; in a checkout: bun run <command> -- [flags])
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(8)} ${c.what}`)
  .join('\n')}
<command> --help prints a command's flags. train, convert, harden, audit, import and export refuse to replace an
existing model, report or file unless --force is given; audit without --out writes to a new folder under runs/.
train, convert, audit, certify and import take --progress auto|bar|plain|json|off; Ctrl-C or SIGTERM stops them at
a safe point (what resumes the run is written, never a half-written file) with exit code 130.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h') {
    console.log(mainUsage);
    return 0;
  }
  const cmd = name ? commands[name] : undefined;
  if (!cmd) {
    console.error(`${name ? `error: unknown command '${name}'\n` : ''}${mainUsage}`);
    return 2;
  }
  try {
    await cmd.run(rest);
    return pendingExitCode() ?? 0;
  } catch (e) {
    const err = e as Error;
    if (err instanceof HelpRequested) {
      console.log(cmd.usage);
      return 0;
    }
    // Stopped by SIGINT or SIGTERM at a safe point: the command has said what it wrote and how to continue.
    if (err instanceof Stopped) return STOPPED_EXIT_CODE;
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}\n${cmd.usage}`);
      return 2;
    }
    // Data and model-file errors, and refusals to overwrite, already name the file and problem: print the
    // message, not the stack.
    console.error(`error: ${err.message}`);
    if (readEnv('HASHGUARD_DEBUG')) console.error(err.stack);
    return 1;
  }
}

// The single executable is one file: `hashguard worker` starts its job thread from this same file, and there the
// thread's loop runs instead of the command line (audit-job-thread.ts; worker.ts jobThreadUrl).
if (inWorkerThread()) await import('./audit-job-thread.ts');
else exitProcess(await main(commandArgs()));
