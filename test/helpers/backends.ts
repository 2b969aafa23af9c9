// The backends every kernel test body runs against (tfjs ALL_ENVS style). Faster backends add themselves here.
import { referenceBackend } from '../../src/backend/cpu/index.ts';
import type { Backend } from '../../src/tensor/backend.ts';

export const backends: Backend[] = [referenceBackend];

/** Relative tolerance of a float kernel against the reference (one place for all parity tests). */
export const RELATIVE_TOLERANCE = 1e-5;
