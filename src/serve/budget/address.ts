// IP address literals in one canonical form, so that one client is one budget however its address is spelt
// (case, zero compression, IPv4-mapped IPv6, zone ids), and the budget subject of an address (IPv6 by /64).
// Pure string work: no runtime API, no DNS.

/** Canonical dotted quad of an IPv4 literal (no leading zeros: '010.1.1.1' is refused, not read as octal). */
function parseIPv4(s: string): number[] | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    out.push(v);
  }
  return out;
}

/** The eight 16-bit groups of an IPv6 literal (with '::' and a trailing dotted IPv4 allowed), or null. */
function parseIPv6(s: string): number[] | null {
  if (!/^[0-9a-fA-F:.]{2,45}$/.test(s)) return null;
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (i === items.length - 1 && item.includes('.')) {
        const v4 = parseIPv4(item);
        if (!v4) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return null;
        out.push(parseInt(item, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  if (!head) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  // A dotted IPv4 tail may only end the address, so it cannot sit in the head of a '::' split.
  if (halves[0].includes('.')) return null;
  const tail = groups(halves[1]);
  if (!tail || head.length + tail.length > 7) return null;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** RFC 5952 text of eight groups: lower case, no leading zeros, the longest run (≥ 2) of zero groups as '::'. */
function formatIPv6(g: readonly number[]): string {
  let bestAt = -1,
    bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number, b: number) =>
    g
      .slice(a, b)
      .map((v) => v.toString(16))
      .join(':');
  if (bestAt < 0) return hex(0, 8);
  return `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`;
}

/**
 * The canonical text of an IP address literal, or null when `raw` is not one. IPv4 stays dotted; an
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d, in any spelling) becomes its IPv4 address; other IPv6 addresses
 * take RFC 5952 form. Brackets and a zone id ('%eth0') are dropped.
 */
export function normalizeAddress(raw: string | undefined | null): string | null {
  if (!raw) return null;
  let s = raw.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const v4 = parseIPv4(s);
  if (v4) return v4.join('.');
  const g = parseIPv6(s);
  if (!g) return null;
  if (g.slice(0, 5).every((v) => v === 0) && g[5] === 0xffff) {
    return [g[6] >> 8, g[6] & 255, g[7] >> 8, g[7] & 255].join('.');
  }
  return formatIPv6(g);
}

/**
 * What a budget counts against for an address: an IPv4 address itself, an IPv6 address's /64 network
 * (one subscriber usually holds a whole /64, so counting single IPv6 addresses would let it mint 2^64
 * budgets). A string that is not an address literal is kept as given (e.g. 'unknown').
 */
export function budgetSubject(address: string): string {
  const canonical = normalizeAddress(address);
  if (!canonical) return address;
  if (!canonical.includes(':')) return canonical;
  const g = parseIPv6(canonical)!;
  return `${formatIPv6([g[0], g[1], g[2], g[3], 0, 0, 0, 0])}/64`;
}
