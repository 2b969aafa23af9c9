// The served models: loaded from their directories (or given), their DefenseSpec parsed, and warmed up once
// through the executor, which also tells which backend really runs them. A model answers only once ready.
import { defenseSpecSchema, type DefenseSpec, type GiStage } from '../defense/index.ts';
import { loadModelDir } from '../io/index.ts';
import { modelFromFile, type LoadedModel } from '../nn/index.ts';
import { HttpError, unavailable } from './errors.ts';
import type { InferenceExecutor } from './executor.ts';
import type { ModelSource, ScoresMode } from './options.ts';

export interface ServedModel {
  name: string;
  scores: ScoresMode;
  state: 'loading' | 'ready' | 'failed';
  loaded: LoadedModel | null;
  spec: DefenseSpec | null;
  /** The random GI stage drawn per request, if the defense has one. */
  random: Extract<GiStage, { kind: 'random' }> | null;
  /** Backend name reported by the executor's warm-up run. */
  backend: string | null;
  /** Why loading failed (server log and readiness only; never sent to clients in detail). */
  error: string | null;
}

/** Loads and warms up one model; never throws (failure is recorded on the model). */
async function prepare(
  m: ServedModel,
  source: ModelSource,
  executor: InferenceExecutor,
): Promise<void> {
  try {
    const loaded =
      'model' in source
        ? source.model
        : await loadModelDir(source.dir).then((f) => modelFromFile(f.manifest, f.tensors));
    const raw = loaded.manifest.defense;
    m.spec = raw && raw.stages.length ? (defenseSpecSchema.parse(raw) as DefenseSpec) : null;
    const randoms = (m.spec?.stages ?? []).filter((s) => s.kind === 'random');
    if (randoms.length > 1) throw new Error('defense: at most one random stage');
    m.random = (randoms[0] as ServedModel['random']) ?? null;
    m.loaded = loaded;
    // One zero image through the real path: loads the weights into the workers and names the backend.
    const per = loaded.network.inputShape.reduce((a, b) => a * b, 1);
    const r = await executor.run(
      loaded.network,
      { x: new Float32Array(per), n: 1 },
      m.random ? { stage: m.random, seed: 0 } : null,
    );
    if ('clientError' in r) throw new Error(`warm-up: ${r.clientError}`);
    m.backend = r.backend;
    m.state = 'ready';
  } catch (e) {
    m.state = 'failed';
    m.error = (e as Error).message;
  }
}

export class ModelRegistry {
  private readonly models = new Map<string, ServedModel>();
  /** Settles when every model is ready; rejects naming the models that failed. */
  readonly ready: Promise<void>;

  constructor(sources: Record<string, ModelSource>, executor: InferenceExecutor) {
    const jobs: Promise<void>[] = [];
    for (const [name, source] of Object.entries(sources)) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name))
        throw new RangeError(`model name '${name}': use letters, digits, '.', '_' and '-'`);
      const m: ServedModel = {
        name,
        scores: source.scores ?? 'none',
        state: 'loading',
        loaded: null,
        spec: null,
        random: null,
        backend: null,
        error: null,
      };
      this.models.set(name, m);
      jobs.push(prepare(m, source, executor));
    }
    if (this.models.size === 0) throw new RangeError('createApp: no models to serve');
    this.ready = Promise.all(jobs).then(() => {
      const failed = [...this.models.values()].filter((m) => m.state === 'failed');
      if (failed.length)
        throw new Error(failed.map((m) => `model '${m.name}': ${m.error}`).join('; '));
    });
    this.ready.catch(() => {}); // reported through readiness and to whoever awaits it, never unhandled
  }

  all(): ServedModel[] {
    return [...this.models.values()];
  }

  /** The model named in the URL, or 404. */
  find(name: string): ServedModel {
    const m = this.models.get(name);
    if (!m) throw new HttpError(404, `unknown model '${name.slice(0, 128)}'`);
    return m;
  }

  /** The model, ready to infer, or 404 / 503 (still loading, or failed to load). */
  requireReady(name: string): ServedModel & { loaded: LoadedModel } {
    const m = this.find(name);
    if (m.state !== 'ready' || !m.loaded)
      throw unavailable(`model '${name}' is not ready`, m.state === 'loading' ? 1 : 30);
    return m as ServedModel & { loaded: LoadedModel };
  }
}

/** The model's version string: the first 12 hex digits of its weights' sha256 (new weights, new version). */
export function modelVersion(m: ServedModel & { loaded: LoadedModel }): string {
  return m.loaded.manifest.weights.sha256.slice(0, 12);
}
