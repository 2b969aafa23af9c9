// The running process as the command-line tools see it (Bun, Node, and Deno's node:process): arguments, exit code,
// standard error, Ctrl-C, and the runtime's name and platform. The CLI and the scripts reach the process only here.

type Proc = {
  argv: string[];
  exitCode?: number | string;
  exit(code?: number): never;
  stderr: { write(s: string): unknown; isTTY?: boolean };
  on(event: 'SIGINT' | 'SIGTERM', fn: () => void): unknown;
  off(event: 'SIGINT', fn: () => void): unknown;
  version: string;
  platform: string;
  arch: string;
};
const proc = () => (globalThis as { process?: Proc }).process!;

/** The command-line arguments after the program and script: what a user typed. */
export function commandArgs(): string[] {
  return proc().argv.slice(2);
}

/** Ends the process with `code`. */
export function exitProcess(code: number): never {
  return proc().exit(code);
}

/** The exit code set so far (a numeric process.exitCode), else undefined. */
export function pendingExitCode(): number | undefined {
  const c = proc().exitCode;
  return typeof c === 'number' ? c : undefined;
}

/** Sets the code the process will exit with, without ending it. */
export function setExitCode(code: number): void {
  proc().exitCode = code;
}

/** Standard error, for progress lines and messages. */
export function standardError(): { write(s: string): unknown; isTTY?: boolean } {
  return proc().stderr;
}

/** Calls `fn` on Ctrl-C (SIGINT) until the returned function removes it. */
export function onInterrupt(fn: () => void): () => void {
  proc().on('SIGINT', fn);
  return () => void proc().off('SIGINT', fn);
}

/** Calls `fn` on every SIGINT or SIGTERM (a server's graceful stop); never removed. */
export function onStopSignal(signal: 'SIGINT' | 'SIGTERM', fn: () => void): void {
  proc().on(signal, fn);
}

/** Runtime name and version: bun, deno or node. */
export function runtimeName(): string {
  const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };
  if (g.Bun) return `bun ${g.Bun.version}`;
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  return `node ${proc().version}`;
}

/** Operating system and architecture, e.g. linux-x64. */
export function platformName(): string {
  return `${proc().platform}-${proc().arch}`;
}
