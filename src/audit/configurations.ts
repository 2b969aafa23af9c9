// The configurations an audit compares (docs/design.md §5): the dense model, its hashed counterpart, the hashed
// model under each gradient-inhibition stage and, when given, the adversarially trained dense and hashed models
// (the latter also under GI random), all as DefendedModels so attacks see what a client sees.
import {
  DefendedModel,
  type DefenseSpec,
  type GiStage,
  applyStaticStages,
} from '../defense/index.ts';
import { Sequential } from '../nn/index.ts';

export interface AuditConfiguration {
  name: string;
  model: DefendedModel;
  stages: GiStage[];
  /** Which input model the configuration is built from (its weights, provenance and training cost). */
  from: 'dense' | 'hashed' | 'denseAt' | 'hashedAt';
}

/** GI random at docs/design.md §1.2's defaults: α ∈ [50, 150] with 5% last-layer noise. */
const RANDOM_STAGE: GiStage = { kind: 'random', alphaMin: 50, alphaMax: 150, noise: 0.05 };

/**
 * The GI stages the audit applies, at docs/design.md §1.2's defaults: scale α 100; random α ∈ [50, 150] with 5%
 * last-layer noise; magnitude at `magnitudeEps`, which the audit calibrates per model (the largest ε whose clean
 * accuracy stays within 0.3 pp, src/defense/magnitude-calibration.ts).
 */
export function auditStages(magnitudeEps: number): { name: string; stage: GiStage }[] {
  return [
    { name: 'hashed+GI scale', stage: { kind: 'scale', alpha: 100 } },
    { name: 'hashed+GI magnitude', stage: { kind: 'magnitude', eps: magnitudeEps } },
    { name: 'hashed+GI random', stage: RANDOM_STAGE },
  ];
}

/**
 * Every configuration in report order, with its --configurations key. The last three need the adversarially
 * trained models (--dense-at, --hashed-at); without them an audit is the first five.
 */
export const CONFIGURATIONS: readonly {
  name: string;
  key: string;
  needs: AuditConfiguration['from'];
}[] = [
  { name: 'dense', key: 'dense', needs: 'dense' },
  { name: 'hashed', key: 'hashed', needs: 'hashed' },
  { name: 'hashed+GI scale', key: 'scale', needs: 'hashed' },
  { name: 'hashed+GI magnitude', key: 'magnitude', needs: 'hashed' },
  { name: 'hashed+GI random', key: 'random', needs: 'hashed' },
  { name: 'dense AT', key: 'dense-at', needs: 'denseAt' },
  { name: 'hashed AT', key: 'hashed-at', needs: 'hashedAt' },
  { name: 'hashed AT+GI random', key: 'hashed-at-random', needs: 'hashedAt' },
];

/** Every configuration's name, in report order. */
export const CONFIGURATION_NAMES: readonly string[] = CONFIGURATIONS.map((c) => c.name);
/** --configurations' short keys, in the same order. */
export const CONFIGURATION_KEYS: readonly string[] = CONFIGURATIONS.map((c) => c.key);

/**
 * dense, hashed, hashed+GI scale / magnitude / random, then dense AT, hashed AT and hashed AT+GI random for the
 * adversarially trained models given; `secret` seeds the random stages' request seeds.
 */
export function auditConfigurations(
  dense: Sequential,
  hashed: Sequential,
  hashedName: string,
  secret: number,
  magnitudeEps: number,
  at: { dense?: Sequential; hashed?: { model: Sequential; name: string } } = {},
): AuditConfiguration[] {
  const spec = (stages: GiStage[], name: string): DefenseSpec => ({
    stages,
    source: { name, weightsSha256: '', hashed: true },
  });
  const defended = (net: Sequential, name: string, stage: GiStage) =>
    new DefendedModel(
      new Sequential(
        net.inputShape,
        net.layers,
        applyStaticStages(net.layers, net.params, [stage]),
      ),
      spec([stage], name),
      secret,
    );
  return [
    { name: 'dense', model: new DefendedModel(dense, null), stages: [], from: 'dense' },
    { name: 'hashed', model: new DefendedModel(hashed, null), stages: [], from: 'hashed' },
    ...auditStages(magnitudeEps).map(({ name, stage }): AuditConfiguration => ({
      name,
      stages: [stage],
      model: defended(hashed, hashedName, stage),
      from: 'hashed',
    })),
    ...(at.dense
      ? [
          {
            name: 'dense AT',
            model: new DefendedModel(at.dense, null),
            stages: [],
            from: 'denseAt',
          } satisfies AuditConfiguration,
        ]
      : []),
    ...(at.hashed
      ? [
          {
            name: 'hashed AT',
            model: new DefendedModel(at.hashed.model, null),
            stages: [],
            from: 'hashedAt',
          } satisfies AuditConfiguration,
          // Built from the hashed AT model exactly as 'hashed+GI random' is from the hashed one.
          {
            name: 'hashed AT+GI random',
            model: defended(at.hashed.model, at.hashed.name, RANDOM_STAGE),
            stages: [RANDOM_STAGE],
            from: 'hashedAt',
          } satisfies AuditConfiguration,
        ]
      : []),
  ];
}
