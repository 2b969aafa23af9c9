// The configurations an audit compares (docs/design.md §5): the dense model, its hashed counterpart, and the
// hashed model under each gradient-inhibition stage, all as DefendedModels so attacks see what a client sees.
import { DefendedModel } from '../defense/defended-model.ts';
import type { DefenseSpec, GiStage } from '../defense/defense-spec.ts';
import { applyStaticStages } from '../defense/gradient-inhibition.ts';
import { Sequential } from '../nn/sequential.ts';

export interface AuditConfiguration {
  name: string;
  model: DefendedModel;
  stages: GiStage[];
}

/**
 * The GI stages the audit applies, at docs/design.md §1.2's defaults: scale α 100; random α ∈ [50, 150] with 5%
 * last-layer noise; magnitude at `magnitudeEps`, which the audit calibrates per model (the largest ε whose clean
 * accuracy stays within 0.3 pp, src/defense/magnitude-calibration.ts).
 */
export function auditStages(magnitudeEps: number): { name: string; stage: GiStage }[] {
  return [
    { name: 'hashed+GI scale', stage: { kind: 'scale', alpha: 100 } },
    { name: 'hashed+GI magnitude', stage: { kind: 'magnitude', eps: magnitudeEps } },
    { name: 'hashed+GI random', stage: { kind: 'random', alphaMin: 50, alphaMax: 150, noise: 0.05 } },
  ];
}

/** Every configuration's name, in report order. */
export const CONFIGURATION_NAMES: readonly string[] = ['dense', 'hashed', ...auditStages(0).map((s) => s.name)];

/** dense, hashed, hashed+GI scale / magnitude / random; `secret` seeds the random stage's request seeds. */
export function auditConfigurations(dense: Sequential, hashed: Sequential, hashedName: string, secret: number, magnitudeEps: number): AuditConfiguration[] {
  const spec = (stages: GiStage[]): DefenseSpec => ({ stages, source: { name: hashedName, weightsSha256: '', hashed: true } });
  return [
    { name: 'dense', model: new DefendedModel(dense, null), stages: [] },
    { name: 'hashed', model: new DefendedModel(hashed, null), stages: [] },
    ...auditStages(magnitudeEps).map(({ name, stage }) => ({
      name,
      stages: [stage],
      model: new DefendedModel(new Sequential(hashed.inputShape, hashed.layers, applyStaticStages(hashed.layers, hashed.params, [stage])), spec([stage]), secret),
    })),
  ];
}
