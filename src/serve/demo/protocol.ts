// The messages between the demo page and its worker (worker.ts): one request, one answer, matched by id. Types
// only; arrays of numbers travel as Float32Array (structured clone), never through JSON.

/** 'auto' as the core's selectBackend: WebGPU on a hardware adapter, else the WASM kernels. */
export type BackendChoice = 'auto' | 'cpu' | 'webgpu';

export type WorkerRequest =
  | { type: 'load'; model: string; backend: BackendChoice }
  | {
      type: 'image';
      bytes: ArrayBuffer;
      shape: [number, number, number];
      background: 'dark' | 'light' | 'any';
    }
  | { type: 'predict'; x: Float32Array }
  | { type: 'pgd'; x: Float32Array; label: number; eps: number; steps: number; loss: PgdLoss }
  | { type: 'remote'; model: string; x: Float32Array; label: number; eps: number; queries: number };

export type PgdLoss = 'ce' | 'cw' | 'dlr';

/** What each request type answers. */
export interface WorkerAnswers {
  load: { backend: string; kind: 'cpu' | 'webgpu'; randomized: boolean };
  image: { x: Float32Array; preprocessing: unknown };
  /** Logits of the local copy: the defended model with request seed 0, and its network before the defense. */
  predict: { label: number; logits: number[]; networkLogits: number[] };
  pgd: {
    attack: string;
    xAdv: Float32Array;
    /** ‖xAdv − x‖∞, in float64. */
    linf: number;
    success: boolean;
    before: number;
    after: number;
    queries: number;
  };
  remote: {
    attack: string;
    /** 'flipped': the server's label changed; 'held': it did not; 'blocked': 403 query_attack_detected; 'budget': 429. */
    outcome: 'flipped' | 'held' | 'blocked' | 'budget';
    queries: number;
    message: string;
    xAdv: Float32Array | null;
    prediction: number | null;
  };
}

export type WorkerReply =
  | { id: number; ok: true; result: WorkerAnswers[keyof WorkerAnswers] }
  | { id: number; ok: false; error: string };

/** What the server writes into the page (html.ts) for its script: the served models and what each offers. */
export interface DemoConfig {
  models: {
    name: string;
    ready: boolean;
    /** null: its files are published (the page's local PGD can run); else why not. */
    filesRefused: string | null;
    /** The audit matched to its weights: report file, configuration, and the HTML report's URL where there is one. */
    audit: { file: string; configuration: string | null; report: string | null } | null;
  }[];
}
