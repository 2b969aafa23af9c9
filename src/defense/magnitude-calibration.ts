// The default ε of magnitude gradient inhibition (docs/design.md §1.2): the largest on a fixed grid whose clean accuracy
// stays within a tolerance of the unedited model's on the given rows, with the whole sweep kept as evidence of
// how far the edit gets before the accuracy bound stops it.
import { Sequential, accuracy, type ImageSet, type LayerSpec } from '../nn/index.ts';
import type { Tensor } from '../tensor/index.ts';
import { applyMagnitude } from './gradient-inhibition.ts';

/** Candidate ε, ascending (spans "no visible change" to "accuracy collapses" on the committed models). */
export const MAGNITUDE_GRID = [
  0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2,
];

export interface MagnitudeSweepPoint {
  eps: number;
  accuracy: number;
  /** Accuracy change against ε = 0, percentage points. */
  changePp: number;
}

export interface MagnitudeCalibration {
  /** The chosen ε; 0 when even the smallest grid point breaks the tolerance. */
  eps: number;
  tolerancePp: number;
  /** Rows scored per grid point. */
  rowCount: number;
  /** Which rows: the validation split held out of the training rows (absent in calibrations made before it existed). */
  rows?: { rows: 'last' | 'last-per-class'; count: number };
  baseAccuracy: number;
  sweep: MagnitudeSweepPoint[];
}

/**
 * Scans the grid upward and stops at the first ε whose held-out accuracy falls more than `tolerancePp` below
 * the unedited model's (accuracy is not monotone in ε, so "largest passing after a failure" would be noise).
 */
export function calibrateMagnitude(
  inputShape: readonly number[],
  layers: readonly LayerSpec[],
  params: ReadonlyMap<string, Tensor>,
  rows: ImageSet,
  tolerancePp = 0.3,
  grid: readonly number[] = MAGNITUDE_GRID,
): MagnitudeCalibration {
  if (!(tolerancePp >= 0))
    throw new Error(`magnitude calibration: tolerance must be ≥ 0 pp, got ${tolerancePp}`);
  if (rows.count === 0) throw new Error('magnitude calibration: no rows to score');
  const score = (p: ReadonlyMap<string, Tensor>) => {
    const model = new Sequential(inputShape, layers, new Map(p));
    const acc = accuracy(model, rows).accuracy;
    model.releaseCompiled(); // one model per ε: free its arena now, not whenever the collector runs
    return acc;
  };
  const baseAccuracy = score(params);
  const sweep: MagnitudeSweepPoint[] = [];
  let eps = 0;
  for (const e of grid) {
    const acc = score(applyMagnitude(layers, params, e));
    const changePp = Math.round(100 * (acc - baseAccuracy) * 1e4) / 1e4;
    sweep.push({ eps: e, accuracy: acc, changePp });
    if (changePp < -tolerancePp) break;
    eps = e;
  }
  return { eps, tolerancePp, rowCount: rows.count, baseAccuracy, sweep };
}
