// Public door of src/parallel: the worker pool (gradients, inference and certificates across threads) and the
// defended inference task the server's workers run.
export { WorkerPool, machineThreads } from './pool.ts';
export {
  runDefended,
  type CertifyRequest,
  type DefendedInput,
  type DefendedResult,
  type ImagePreprocessing,
  type RandomDraw,
  type RowCertificates,
} from './defended-task.ts';
export { runCertify, type CertifyInput, type CertifyResult } from './certify-task.ts';
