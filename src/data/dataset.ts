// The in-memory dataset shape every loader returns: images as one NCHW float32 block in [0,1], labels as bytes.

/** One split of a labelled image dataset. */
export interface Dataset {
  /** Human-readable name, e.g. 'mnist/train'. */
  name: string;
  /** count × C × H × W float32 values in [0, 1], NCHW. */
  images: Float32Array;
  /** count class indices. */
  labels: Uint8Array;
  /** [C, H, W] of one image. */
  shape: [number, number, number];
  /** Class names, index = label. */
  classes: string[];
  count: number;
  /** sha256 (hex) of the source files, in a fixed order, for provenance; '' for synthetic data. */
  sha256: string;
}

/** Train and test splits of one dataset. */
export interface DatasetSplits {
  train: Dataset;
  test: Dataset;
}
