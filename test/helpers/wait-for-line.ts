// Reading a child process's output until the line a test waits for (a server's banner): the line, or a failure
// that shows everything the process printed by the deadline.
export async function waitForLine(
  stream: ReadableStream<Uint8Array>,
  match: RegExp,
  timeoutMs: number,
): Promise<string> {
  const reader = stream.getReader(),
    decoder = new TextDecoder();
  let seen = '';
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await Promise.race([
      reader.read(),
      Bun.sleep(deadline - Date.now()).then(() => ({ done: true, value: undefined })),
    ]);
    if (r.done) break;
    seen += decoder.decode(r.value, { stream: true });
    const line = seen.split('\n').find((l) => match.test(l));
    if (line) {
      reader.releaseLock();
      return line;
    }
  }
  throw new Error(`no line matching ${match}; output:\n${seen}`);
}
