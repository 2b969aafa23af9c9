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

/**
 * Runs `entry` on configuration `config` (model `m`), continuing from `current.partial` when an earlier run of this
 * entry stopped between chunks. A chunked entry (SuiteEntry.chunked) attacks `ctx.cascadeChunk` images at a time,
 * chunk k with seed deriveStream(seed, CHUNK_TAG + k) (chunk 0 with the audit's seed, so a subset within one chunk
 * gets the numbers an unchunked run gets), and checkpoints after every chunk but the last; the caller checkpoints
 * the finished entry. A randomized model's verdicts come from fresh queries right after each chunk's attack.
 */
export async function runEntry(
  ctx: AuditContext,
  config: string,
  m: DefendedModel,
  entry: SuiteEntry,
  current: NonNullable<AuditProgress['current']>,
  cleanCorrect: readonly boolean[],
): Promise<EntryOutcome> {
  const full = entry.subset === 'full';
  const [xs, ys, count] = full ? [ctx.x, ctx.y, ctx.n] : [ctx.xq, ctx.yq, ctx.nq];
  const size = entry.chunked ? ctx.cascadeChunk : count;
  const o: EntryOutcome =
    current.partial?.id === entry.id
      ? decode(current.partial)
      : {
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
        };
  while (o.done < count) {
    const k = o.done / size;
    const rows = Array.from({ length: Math.min(size, count - o.done) }, (_, i) => o.done + i);
    const whole = rows.length === xs.shape[0];
    const [xc, yc] = whole ? [xs, ys] : [takeRows(xs, rows), takeRows(ys, rows)];
    const seed = k === 0 ? ctx.seed : deriveStream(ctx.seed, CHUNK_TAG + k);
    const { attack, target } = entry.make(m, { dense: ctx.dense, seed, b: ctx.budgets });
    const t = performance.now();
    const r: AttackResult = await attack.run(target, xc, yc);
    o.seconds += (performance.now() - t) / 1000;
    o.name = attack.name;
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
    o.success.push(...r.success);
    o.majority.push(...v.majority);
    o.any.push(...v.any);
    o.single.push(...v.single);
    o.l2.push(...r.norms.l2);
    o.linf.push(...r.norms.linf);
    o.queries.push(...r.queries);
    if (isAutoAttackResult(r)) {
      const parts = r.components.map(({ name, attacked, broken }) => ({ name, attacked, broken }));
      o.components = o.components
        ? o.components.map((c, i) => ({
            ...c,
            attacked: c.attacked + parts[i].attacked,
            broken: c.broken + parts[i].broken,
          }))
        : parts;
    }
    // The configuration's example: the first image an adaptive attack breaks (the chunks run in image order).
    const shown = v.majority.findIndex((b, i) => b && cleanCorrect[rows[i]]);
    if (
      shown >= 0 &&
      entry.table === 'adaptive' &&
      !ctx.progress.examples.some((e) => e.config === config)
    ) {
      const d = xc.size / rows.length;
      const round = (a: Float32Array) => Array.from(a, (x) => Math.round(x * 1e4) / 1e4);
      ctx.progress.examples.push({
        config,
        attack: entry.id,
        shape: [...xc.shape.slice(1)],
        label: labels[shown],
        prediction: r.predictions[shown],
        clean: round(xc.data.subarray(shown * d, (shown + 1) * d) as Float32Array),
        adversarial: round(r.xAdv.data.subarray(shown * d, (shown + 1) * d) as Float32Array),
      });
    }
    o.done += rows.length;
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
