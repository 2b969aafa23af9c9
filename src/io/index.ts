// Public door of src/io: runtime file I/O (atomic writes, model directories).
export { readFileOrThrow, writeFileAtomic } from './files.ts';
export { loadModelDir, saveModelDir } from './model-dir.ts';
export {
  loadCheckpoint,
  saveCheckpoint,
  type CheckpointState,
  type EpochRecord,
} from './checkpoint.ts';
