// The serializable DefenseSpec (model.json `defense`): the gradient-inhibition stages applied to a trained
// classifier (docs/design.md §1). `magnitude` and `scale` are edits already baked into the stored weights;
// `random` is applied at query time from a per-request seed.
import { z } from 'zod';

export type GiStage =
  /** W ← W + ε·sign(W) on every fully connected layer (hashed real weights included). */
  | { kind: 'magnitude'; eps: number }
  /** Last layer W, b ← α·W, α·b: logits scaled by α, predictions unchanged. */
  | { kind: 'scale'; alpha: number }
  /** Per query: logits of row i scaled by α_i ~ U[alphaMin, alphaMax]; last-layer real weights × (1 + noise·N(0, 1)). */
  | { kind: 'random'; alphaMin: number; alphaMax: number; noise: number };

export interface DefenseSpec {
  stages: GiStage[];
  /** The model the stages were applied to. */
  source: { name: string; weightsSha256: string; hashed: boolean };
}

const positive = z.number().finite().positive();
export const giStageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('magnitude'), eps: z.number().finite().nonnegative() }),
  z.object({ kind: z.literal('scale'), alpha: positive }),
  z
    .object({
      kind: z.literal('random'),
      alphaMin: positive,
      alphaMax: positive,
      noise: z.number().finite().nonnegative(),
    })
    .refine((s) => s.alphaMin <= s.alphaMax, { message: 'alphaMin must not exceed alphaMax' }),
]);
export const defenseSpecSchema = z.object({
  stages: z.array(giStageSchema),
  source: z.object({ name: z.string(), weightsSha256: z.string(), hashed: z.boolean() }),
});

/**
 * Parses a CLI stage: "magnitude:EPS", "scale:ALPHA", "random:MIN,MAX" or "random:MIN,MAX,NOISE".
 * Errors name the stage text and what was expected.
 */
export function parseGiStage(text: string): GiStage {
  const [kind, args = ''] = text.split(':', 2);
  const nums = args
    .split(',')
    .filter((a) => a !== '')
    .map(Number);
  const fail = (want: string) => new Error(`--gi '${text}': expected ${want}`);
  let stage: GiStage;
  if (kind === 'magnitude') {
    if (nums.length !== 1) throw fail('magnitude:EPS (EPS ≥ 0)');
    stage = { kind, eps: nums[0] };
  } else if (kind === 'scale') {
    if (nums.length !== 1) throw fail('scale:ALPHA (ALPHA > 0)');
    stage = { kind, alpha: nums[0] };
  } else if (kind === 'random') {
    if (nums.length !== 2 && nums.length !== 3)
      throw fail('random:MIN,MAX[,NOISE] (0 < MIN ≤ MAX, NOISE ≥ 0)');
    stage = { kind, alphaMin: nums[0], alphaMax: nums[1], noise: nums[2] ?? 0 };
  } else throw fail('magnitude:EPS, scale:ALPHA or random:MIN,MAX[,NOISE]');
  const r = giStageSchema.safeParse(stage);
  if (!r.success) throw fail(r.error.issues.map((i) => i.message).join('; '));
  return stage;
}
