// Public door of src/runtime: the only code that reads runtime globals (process, Bun, Deno). The environment
// reader is guarded (undefined in a browser); the process functions serve the command-line tools.
export { readEnv } from './env.ts';
export {
  commandArgs,
  exitProcess,
  pendingExitCode,
  setExitCode,
  standardError,
  onInterrupt,
  runtimeName,
  platformName,
} from './process.ts';
