// The serving module's public door: createApp and what it is configured with, and the pieces `hashguard serve`
// starts from (flags, startApp, the node:http listener). Runtime entry files (bun.ts, deno.ts, node.ts) are separate.
export { createApp, type HashguardApp } from './app.ts';
export {
  DEFAULT_BUDGETS,
  DEFAULT_LIMITS,
  SCORES_MODES,
  type Budgets,
  type DemoOptions,
  type Limits,
  type ModelSource,
  type ScoresMode,
  type ServeOptions,
} from './options.ts';
export { inProcessExecutor, workerExecutor, type InferenceExecutor } from './executor.ts';
export {
  MemoryBudgetStore,
  DurableObjectBudgetStore,
  BudgetCounter,
  clientIdentity,
  type BudgetResult,
  type BudgetStore,
} from './budget/index.ts';
export {
  DEFAULT_DETECT,
  DEFAULT_DETECT_SEED,
  DETECT_MODES,
  MemoryDetectStore,
  QueryDetector,
  resolveDetect,
  type DetectMode,
  type DetectSettings,
  type DetectStore,
  type RowMatches,
} from './detect/index.ts';
export { HttpError } from './errors.ts';
export { requestSeeds, randomSecret } from './seeds.ts';
export { openApiDocument } from './openapi/index.ts';
export {
  bundleDemo,
  noDawnInBrowsers,
  DEMO_SCRIPTS,
  type BrowserBundler,
  type DemoScripts,
} from './demo/index.ts';
export {
  parseServeConfig,
  serveUsage,
  ServeUsageError,
  DEFAULT_MODEL,
  type ServerConfig,
} from './config.ts';
export { startApp, listenFailure, onStopSignals, type Started } from './start.ts';
export { listenNodeHttp, type NodeListener } from './node-listener.ts';
export {
  DEFAULT_EMBEDDED_MODEL,
  EmbeddedModelError,
  embeddedFiles,
  loadEmbeddedModel,
  type EmbeddedModel,
} from './embedded/index.ts';
