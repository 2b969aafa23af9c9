// Public door of src/cli: the subcommands of `hashguard` (main.ts is the program), and the flag parsing,
// machine facts and progress output the bench and scripts programs share with them.
export { trainCommand, trainUsage } from './train.ts';
export { evalCommand, evalUsage } from './eval.ts';
export { convertCommand, convertUsage } from './convert.ts';
export { hardenCommand, hardenUsage } from './harden.ts';
export { auditCommand, auditUsage } from './audit.ts';
export { certifyCommand, certifyUsage } from './certify.ts';
export { importCommand, importUsage } from './import.ts';
export { exportCommand, exportUsage } from './export.ts';
export {
  flags,
  parse,
  parseWithPositionals,
  choice,
  number,
  radius,
  requireString,
  UsageError,
  HelpRequested,
  type FlagOptions,
  type FlagValues,
} from './args.ts';
export { scriptArgs, scriptFlags, usageExit, withUsage } from './script-flags.ts';
export {
  writeAuditReport,
  renderReport,
  REPORT_FORMATS,
  type ReportFormat,
} from './report-files.ts';
export { machineInfo, runtimeName, sourceRevision } from './machine.ts';
export {
  formatDuration,
  progressFromFlags,
  progressOptions,
  progressSink,
  progressUsage,
  PROGRESS_CHOICES,
  type ProgressEvent,
  type ProgressSink,
  type ProgressTask,
} from './progress.ts';
export { listenForStop, nextTurn, Stopped, STOPPED_EXIT_CODE } from './stop.ts';
export { threadsFlag, withWorkers } from './threads-flag.ts';
export { useBackend, useTrainBackend, TRAIN_BACKEND_NAMES } from './backend-flag.ts';
export { defaultValidationRows, splitValidation } from './adversarial-flags.ts';
