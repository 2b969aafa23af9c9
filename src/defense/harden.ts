// harden(): gradient inhibition applied to a loaded model in memory, the embedding counterpart of
// `bun run harden`. Returns a model whose manifest records the DefenseSpec and the new weights' sha256
// (so audits and /robustness match it), plus the DefendedModel that applies any random stage per call.
import { DefendedModel } from './defended-model.ts';
import { defenseSpecSchema, parseGiStage, type DefenseSpec, type GiStage } from './defense-spec.ts';
import { applyStaticStages } from './gradient-inhibition.ts';
import { encodeModel, modelFromFile, type LoadedModel } from '../nn/index.ts';

/** A model with its defense: `defended` answers queries (fresh randomness per call for a random stage). */
export interface HardenedModel extends LoadedModel {
  defended: DefendedModel;
}

export interface HardenOptions {
  /** Name of the hardened model (default `<source>-gi`). */
  name?: string;
  /** Secret of the per-call request seeds of a random stage (default 0: reproducible; a server keeps its own). */
  secret?: number;
}

/**
 * Applies GI stages (objects, or CLI text such as 'magnitude:0.05', 'scale:100', 'random:50,150,0.05') in the
 * order given. Static stages edit a copy of the weights (the source is untouched); a random stage is kept in
 * the spec and drawn per call by `defended`. Throws when the model is already defended or a stage is invalid.
 */
export async function harden(
  model: LoadedModel,
  stages: readonly (GiStage | string)[],
  options: HardenOptions = {},
): Promise<HardenedModel> {
  const { manifest, network } = model;
  if (manifest.defense && manifest.defense.stages.length)
    throw new Error(
      `harden: model '${manifest.name}' is already defended; harden its source model instead`,
    );
  if (!stages.length) throw new Error('harden: give at least one stage');
  const parsed = stages.map((s) => (typeof s === 'string' ? parseGiStage(s) : s));
  const spec = defenseSpecSchema.parse({
    stages: parsed,
    source: {
      name: manifest.name,
      weightsSha256: manifest.weights.sha256,
      hashed: manifest.layers.some((l) => l.type.startsWith('hashed')),
    },
  }) as DefenseSpec;
  const edited = applyStaticStages(manifest.layers, network.params, spec.stages);
  const { weights: _bytes, ...draft } = manifest;
  const encoded = await encodeModel(
    {
      ...draft,
      name: options.name ?? `${manifest.name}-gi`,
      defense: spec as unknown as { stages: unknown[] },
      provenance: {
        ...manifest.provenance,
        hardenedFrom: { name: manifest.name, weightsSha256: manifest.weights.sha256 },
      },
      // Not re-measured here (no data in memory): `bun run harden` measures accuracy after the edit.
      metrics: {
        ...manifest.metrics,
        testAccuracyBefore: manifest.metrics.testAccuracy,
        remeasured: false,
      },
    },
    edited,
  );
  const hardened = modelFromFile(encoded.manifest, edited);
  return { ...hardened, defended: new DefendedModel(hardened.network, spec, options.secret ?? 0) };
}
