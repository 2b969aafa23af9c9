// Command lines the CLI tests share: the one-epoch synthetic MLP that several tests train as their subject.

/** `train` of a 784-32-10 MLP on synthetic data, one epoch, seed 3, one thread: a model in seconds. */
export const trainSyntheticMlp = (out: string, checkpoint: string): string[] =>
  ['train', '--arch', 'mlp', '--dataset', 'synthetic', '--epochs', '1', '--seed', '3'].concat([
    '--batch-size',
    '50',
    '--widths',
    '32',
    '--threads',
    '1',
    '--out',
    out,
    '--checkpoint',
    checkpoint,
  ]);
