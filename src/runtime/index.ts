// Public door of src/runtime: the only code that reads runtime globals (process, Bun, Deno). The environment
// reader is guarded (undefined in a browser); the process functions serve the command-line tools.
export { readEnv, readEnvAll } from './env.ts';
export {
  commandArgs,
  exitProcess,
  pendingExitCode,
  processId,
  setExitCode,
  standardError,
  standardOutput,
  onInterrupt,
  onStopSignal,
  runtimeName,
  platformName,
  type OutputStream,
  type StopSignal,
} from './process.ts';
export {
  inWorkerThread,
  startWorker,
  workerScope,
  type WorkerHandle,
  type WorkerScope,
} from './worker.ts';
