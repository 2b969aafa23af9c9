// Assembles a kernel's final WGSL text: WGSL has no #include, so the shaders/lib helpers a file declares are
// concatenated in front of it. Pure: reading files is the caller's job (shader-loader.ts).

/**
 * Convention: a shader's first line may be `// requires: hash, rng`, naming files of shaders/lib/ (stems).
 * Libs may require other libs; each is included once, dependencies first.
 */
const REQUIRES = /^\s*\/\/\s*requires:(.*)$/;

/** Where one file's text sits in the assembled code (1-based lines), to map compiler messages back. */
export interface SourcePart {
  name: string;
  firstLine: number;
  lineCount: number;
}

export interface AssembledSource {
  code: string;
  parts: SourcePart[];
}

/** The lib stems a shader's first line declares (empty when it declares none). */
export function parseRequires(text: string): string[] {
  const first = text.split('\n', 1)[0] ?? '';
  const m = REQUIRES.exec(first);
  if (!m) return [];
  return m[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * `name`'s text preceded by every lib it needs, transitively. `readLib(stem)` returns the text of
 * shaders/lib/<stem>.wgsl. Throws on a dependency cycle.
 */
export function assembleSource(
  name: string,
  text: string,
  readLib: (stem: string) => string,
): AssembledSource {
  const order: { name: string; text: string }[] = [];
  const done = new Set<string>();
  const visiting: string[] = [];
  const visit = (stem: string) => {
    if (done.has(stem)) return;
    if (visiting.includes(stem))
      throw new Error(`WGSL requires cycle: ${[...visiting, stem].join(' → ')}`);
    visiting.push(stem);
    const libText = readLib(stem);
    for (const dep of parseRequires(libText)) visit(dep);
    visiting.pop();
    done.add(stem);
    order.push({ name: `lib/${stem}.wgsl`, text: libText });
  };
  for (const dep of parseRequires(text)) visit(dep);
  order.push({ name, text });

  const parts: SourcePart[] = [];
  const chunks: string[] = [];
  let line = 1;
  for (const p of order) {
    // Every chunk ends with exactly one newline so the next starts on a fresh line and counts stay exact.
    const body = p.text.endsWith('\n') ? p.text : `${p.text}\n`;
    const lineCount = body.split('\n').length - 1;
    parts.push({ name: p.name, firstLine: line, lineCount });
    chunks.push(body);
    line += lineCount;
  }
  return { code: chunks.join(''), parts };
}

/** `file:line` of a 1-based line of assembled code (the line itself when it lies outside every part). */
export function locateLine(parts: readonly SourcePart[], line: number): string {
  const p = parts.find((q) => line >= q.firstLine && line < q.firstLine + q.lineCount);
  return p ? `${p.name}:${line - p.firstLine + 1}` : `line ${line}`;
}
