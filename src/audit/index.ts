// Public door of src/audit: the robustness audit (local, and remote through a server's API), its attack suite and
// budgets, the configurations it compares, merging part reports, and the JSON, Markdown and HTML renderings.
export {
  runAudit,
  runAuditJobs,
  setupAudit,
  inProcessJobs,
  DEFAULT_CERTIFY,
  type JobExecutor,
  ROBUST_SWEEP_FACTORS,
  type AuditInput,
  type AuditModel,
} from './run-audit.ts';
export { BRACKET_CHECK, bracketCheck, certifyReport } from './certified-bracket.ts';
export type { AuditProgress, JobResult } from './audit-progress.ts';
export { jobKey, planJobs, runJob, type AuditJob, type JobSetup } from './audit-jobs.ts';
export {
  SUITE,
  NAMED_SUITES,
  MNIST_BUDGETS,
  CIFAR_BUDGETS,
  budgetsAtEps,
  suiteIds,
  type Budgets,
} from './attack-suite.ts';
export { CONFIGURATION_KEYS, CONFIGURATION_NAMES } from './configurations.ts';
export { mergeAuditReports } from './merge-reports.ts';
export { blackBoxChecks } from './black-box-check.ts';
export { trainingCost, adversarialMethod, type TrainingCost } from './training-cost.ts';
export { runRemoteAudit, type RemoteAttackId, type RemoteAuditInput } from './remote-audit.ts';
export { auditMarkdown } from './report-markdown.ts';
export { remoteAuditMarkdown } from './report-remote-markdown.ts';
export { auditHtml } from './report-html.ts';
export { headlineChart } from './headline-chart.ts';
export type {
  AuditReport,
  ConfigReport,
  AttackSummary,
  CascadeSummary,
  Check,
} from './report-types.ts';
