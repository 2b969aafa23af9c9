// The settings of a training-method spec (`pgd:eps=0.3,steps=40`, `ibp:eps=8/255,margins=last-layer`):
// numbers, fractions (how CIFAR radii are written) and the word-valued settings a method names, each
// checked against the method's list so a typo is an error naming the known settings.

/** The numeric and word settings after the colon of `kind:...`, with ε required and in (0, 1]. */
export function methodSettings(
  kind: string,
  rest: string,
  numeric: readonly string[],
  words: Readonly<Record<string, readonly string[]>> = {},
): { eps: number; values: Record<string, number>; words: Record<string, string> } {
  const values: Record<string, number> = {};
  const chosen: Record<string, string> = {};
  const known = [...numeric, ...Object.keys(words)];
  for (const part of rest.split(',').filter((p) => p !== '')) {
    const [key, value] = part.split('=', 2);
    if (key in words) {
      if (value === undefined || !words[key].includes(value))
        throw new Error(`${kind}: ${key} must be ${words[key].join(' or ')}, got '${value ?? ''}'`);
      chosen[key] = value;
      continue;
    }
    if (!numeric.includes(key))
      throw new Error(`${kind}: unknown setting '${key}' (known: ${known.join(', ')})`);
    const frac =
      value === undefined ? null : /^\s*([0-9.eE+-]+)\s*\/\s*([0-9.eE+-]+)\s*$/.exec(value);
    const v = frac ? Number(frac[1]) / Number(frac[2]) : Number(value);
    if (value === undefined || value.trim() === '' || !Number.isFinite(v))
      throw new Error(`${kind}: ${key} must be a number, got '${value ?? ''}'`);
    values[key] = v;
  }
  const eps = values.eps;
  if (eps === undefined) throw new Error(`${kind}: eps is required, e.g. ${kind}:eps=0.3`);
  if (!(eps > 0 && eps <= 1)) throw new Error(`${kind}: eps must be in (0, 1], got ${eps}`);
  return { eps, values, words: chosen };
}
