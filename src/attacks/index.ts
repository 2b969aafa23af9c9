// Public door of src/attacks: every attack (config in the constructor, target per call), the targets an attack
// queries (white-box, score and label oracles, a server over HTTP), and the result helpers.
export {
  WhiteBox,
  ScoreOracle,
  LabelOracle,
  QueryBudgetExceeded,
  argmaxRows,
  type Target,
  type Differentiable,
} from './target.ts';
export {
  successRate,
  robustAccuracy,
  median,
  type Attack,
  type AttackResult,
  type Budget,
} from './types.ts';
export { takeRows } from './evaluate.ts';
export {
  HttpOracle,
  ServerBudgetExceeded,
  ServerDetectedAttack,
  type HttpOracleOptions,
  type ServedModelInfo,
  type FetchLike,
} from './http-oracle.ts';
export { FGSM } from './fgsm.ts';
export { BIM } from './bim.ts';
export { PGD } from './pgd.ts';
export { MIFGSM } from './mifgsm.ts';
export { CW } from './cw-l2.ts';
export { DeepFool } from './deepfool.ts';
export { JSMA } from './jsma.ts';
export { APGD } from './apgd.ts';
export { APGDT } from './apgd-t.ts';
export { FAB } from './fab.ts';
export {
  AutoAttack,
  autoAttack,
  isAutoAttackResult,
  type AutoAttackOptions,
  type AutoAttackResult,
} from './autoattack.ts';
export { Square } from './square.ts';
export { HopSkipJump } from './hopskipjump.ts';
export { RayS } from './rays.ts';
export { Transfer } from './transfer.ts';
export { Substitute } from './substitute.ts';
export { EOT } from './eot.ts';
export { BPDA } from './bpda.ts';
export { LogitRescale } from './rescale.ts';
