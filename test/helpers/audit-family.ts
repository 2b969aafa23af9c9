// The small audit family the audit tests share (the committed mnist-lenet5 and its 1/8 hashed twin, freshly
// loaded, so nothing a run leaves in the models carries over), and a report's figures without its timings.
import type { AuditInput, AuditReport } from '../../src/audit/index.ts';
import { committedModel } from './attack-data.ts';

/** The family part of an AuditInput: names, dataset and the two models. */
export async function lenetFamily(): Promise<
  Pick<AuditInput, 'family' | 'datasetName' | 'dense' | 'hashed'>
> {
  return {
    family: 'mnist-lenet5',
    datasetName: 'mnist',
    dense: {
      name: 'mnist-lenet5',
      model: await committedModel('mnist-lenet5'),
      weightsSha256: 'd',
    },
    hashed: {
      name: 'mnist-lenet5-h8',
      model: await committedModel('mnist-lenet5-h8'),
      weightsSha256: 'h',
    },
  };
}

/** What two runs of one audit must share: everything but when and how it ran and how long it took. */
export const reportNumbers = (r: AuditReport) =>
  JSON.stringify({
    ...r,
    date: 0,
    seconds: 0,
    command: '',
    configurations: r.configurations.map((c) => ({
      ...c,
      certifySeconds: 0,
      attacks: c.attacks.map((a) => ({ ...a, seconds: 0 })),
    })),
  });
