// One suite entry on one configuration: its attack on the entry's subset, whole, or for the hours-long cascades in
// chunks of images with a checkpoint after each, and the per-image outcome the audit keeps (verdicts, norms,
// queries); the first image it breaks in an adaptive entry becomes the configuration's example.
import type { AttackResult } from '../attacks/index.ts';
import { isAutoAttackResult, takeRows } from '../attacks/index.ts';
import type { DefendedModel } from '../defense/index.ts';
import { deriveStream } from '../hash/index.ts';
import type { SuiteEntry } from './attack-suite.ts';
import type { AuditProgress, EntryPartial } from './audit-progress.ts';
import type { AuditContext } from './audit-configuration.ts';
import type { ImageExample } from './report-types.ts';
import { verdicts } from './verdicts.ts';

/** Images per chunk of a chunked entry when the audit names none (AuditInput.cascadeChunk). */
export const CASCADE_CHUNK = 100;

const CHUNK_TAG = 0x63686b00; // 'chk\0': chunk k > 0 attacks with deriveStream(seed, CHUNK_TAG + k)

/** What an entry's attack did to each image of its subset. */
export interface EntryOutcome {
  name: string;
  /** Images done (the whole subset once the entry has finished). */
  done: number;
  seconds: number;
  /** The attack's own verdict, and by the audit's fresh queries: most / any / the first wrong (within budget). */
  success: boolean[];
  majority: boolean[];
  any: boolean[];
  single: boolean[];
  l2: number[];
  linf: number[];
  queries: number[];
  /** A cascade's components, their counts summed over the chunks (null for a single attack). */
  components: { name: string; attacked: number; broken: number }[] | null;
}

const toBits = (b: readonly boolean[]) => b.map((v) => (v ? '1' : '0')).join('');
const fromBits = (s: string) => [...s].map((c) => c === '1');

const encode = (id: string, o: EntryOutcome): EntryPartial => ({
  id,
  ...o,
  success: toBits(o.success),
  majority: toBits(o.majority),
  any: toBits(o.any),
  single: toBits(o.single),
});

const decode = ({ id: _, ...p }: EntryPartial): EntryOutcome => ({
  ...p,
  success: fromBits(p.success),
  majority: fromBits(p.majority),
  any: fromBits(p.any),
  single: fromBits(p.single),
});

/** The seed of chunk (or job block) k of an entry: chunk 0 the audit's own, so a subset within one chunk gets the numbers an unchunked run gets. */
export const chunkSeed = (seed: number, k: number) =>
  k === 0 ? seed : deriveStream(seed, CHUNK_TAG + k);

/** An empty outcome, to which chunks are appended in image order. */
export const emptyOutcome = (): EntryOutcome => ({
  name: '',
  done: 0,
  seconds: 0,
  success: [],
  majority: [],
  any: [],
  single: [],
  l2: [],
  linf: [],
  queries: [],
  components: null,
});

/** Appends chunk `piece` (the next rows in image order) to `o`. */
export function appendOutcome(o: EntryOutcome, piece: EntryOutcome): void {
  o.name = piece.name;
  o.done += piece.done;
  o.seconds += piece.seconds;
  o.success.push(...piece.success);
  o.majority.push(...piece.majority);
  o.any.push(...piece.any);
  o.single.push(...piece.single);
  o.l2.push(...piece.l2);
  o.linf.push(...piece.linf);
  o.queries.push(...piece.queries);
  if (piece.components)
    o.components = o.components
      ? o.components.map((c, i) => ({
          ...c,
          attacked: c.attacked + piece.components![i].attacked,
          broken: c.broken + piece.components![i].broken,
        }))
      : piece.components.map((c) => ({ ...c }));
}

/** An entry's outcome as plain data (per-image verdicts as '0'/'1' strings), for checkpoints and job results. */
export const encodeOutcome = encode;
export const decodeOutcome = decode;

/**
 * Entry `entry` of configuration `config` on rows `rows` of its subset (chunk `k`, seeded chunkSeed(seed, k)): the
 * chunk's outcome and, for an adaptive entry, the chunk's example candidate (its first clean-correct image the
 * attack broke by the audit's verdict). A randomized model's verdicts come from fresh queries right after the attack.
 */
export async function runChunk(
  ctx: AuditContext,
  config: string,
  m: DefendedModel,
  entry: SuiteEntry,
  rows: readonly number[],
  k: number,
  cleanCorrect: readonly boolean[],
): Promise<{ piece: EntryOutcome; example: ImageExample | null }> {
  const full = entry.subset === 'full';
  const [xs, ys] = full ? [ctx.x, ctx.y] : [ctx.xq, ctx.yq];
  const whole = rows.length === xs.shape[0];
  const [xc, yc] = whole ? [xs, ys] : [takeRows(xs, [...rows]), takeRows(ys, [...rows])];
  const { attack, target } = entry.make(m, {
    dense: ctx.dense,
    seed: chunkSeed(ctx.seed, k),
    b: ctx.budgets,
  });
  const t = performance.now();
  const r: AttackResult = await attack.run(target, xc, yc);
  const seconds = (performance.now() - t) / 1000;
  // A randomized model's verdict comes from fresh queries; a minimum-norm point must still fit the budget.
  const fits = r.success.map(
    (_, i) =>
      entry.norm === 'l0' ||
      (entry.norm === 'l2'
        ? r.norms.l2[i] <= ctx.budgets.l2 * (1 + 1e-6)
        : r.norms.linf[i] <= ctx.budgets.linf + 1e-6),
  );
  const labels = rows.map((i) => ctx.labels[i]);
  const fresh = m.randomized ? verdicts(m, r.xAdv, labels) : null;
  const v = fresh
    ? {
        majority: fresh.majority.map((w, i) => w && fits[i]),
        any: fresh.any.map((w, i) => w && fits[i]),
        single: fresh.single.map((w, i) => w && fits[i]),
      }
    : { majority: r.success, any: r.success, single: r.success };
  const piece: EntryOutcome = {
    name: attack.name,
    done: rows.length,
    seconds,
    success: [...r.success],
    majority: v.majority,
    any: v.any,
    single: v.single,
    l2: [...r.norms.l2],
    linf: [...r.norms.linf],
    queries: [...r.queries],
    components: isAutoAttackResult(r)
      ? r.components.map(({ name, attacked, broken }) => ({ name, attacked, broken }))
      : null,
  };
  const shown =
    entry.table === 'adaptive' ? v.majority.findIndex((b, i) => b && cleanCorrect[rows[i]]) : -1;
  if (shown < 0) return { piece, example: null };
  const d = xc.size / rows.length;
  const round = (a: Float32Array) => Array.from(a, (x) => Math.round(x * 1e4) / 1e4);
  return {
    piece,
    example: {
      config,
      attack: entry.id,
      shape: [...xc.shape.slice(1)],
      label: labels[shown],
      prediction: r.predictions[shown],
      clean: round(xc.data.subarray(shown * d, (shown + 1) * d) as Float32Array),
      adversarial: round(r.xAdv.data.subarray(shown * d, (shown + 1) * d) as Float32Array),
    },
  };
}

/**
 * Runs `entry` on configuration `config` (model `m`), continuing from `current.partial` when an earlier run of this
 * entry stopped between chunks. A chunked entry (SuiteEntry.chunked) attacks `ctx.cascadeChunk` images at a time,
 * chunk k seeded chunkSeed(seed, k), and checkpoints after every chunk but the last; the caller checkpoints the
 * finished entry. The configuration's example is the first image an adaptive attack breaks (chunks run in image order).
 */
export async function runEntry(
  ctx: AuditContext,
  config: string,
  m: DefendedModel,
  entry: SuiteEntry,
  current: NonNullable<AuditProgress['current']>,
  cleanCorrect: readonly boolean[],
): Promise<EntryOutcome> {
  const count = entry.subset === 'full' ? ctx.n : ctx.nq;
  const size = entry.chunked ? ctx.cascadeChunk : count;
  const o: EntryOutcome =
    current.partial?.id === entry.id ? decode(current.partial) : emptyOutcome();
  while (o.done < count) {
    const k = o.done / size;
    const rows = Array.from({ length: Math.min(size, count - o.done) }, (_, i) => o.done + i);
    const { piece, example } = await runChunk(ctx, config, m, entry, rows, k, cleanCorrect);
    appendOutcome(o, piece);
    if (example && !ctx.progress.examples.some((e) => e.config === config))
      ctx.progress.examples.push(example);
    if (o.done < count) {
      current.partial = encode(entry.id, o);
      current.seedsDrawn = m.seedsDrawn;
      ctx.log(`  ${entry.id}: ${o.done} of ${count} images (${o.seconds.toFixed(1)} s)`);
      await ctx.save();
    }
  }
  delete current.partial;
  return o;
}
