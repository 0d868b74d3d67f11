// What a training will allocate, estimated from the spec's declared sizes alone (nothing is built), so validation can refuse what cannot fit.

const GiB = 1024 ** 3;

/**
 * The most an estimated training may use. The wasm backend's heap ends at 4 GiB and running out aborts the
 * process instead of throwing (DESIGN.md §3); tfjs keeps transient tensors beside the estimate, so 3 GiB leaves room.
 */
export const TRAINING_MEMORY_LIMIT = 3 * GiB;

/**
 * Up to this many parameters the optimizer updates all variables concatenated: per-kernel overhead, not arithmetic, is what a
 * small model's update costs (fig1: 8 variables × 14 kernels). Above it, the flat copies would raise the peak memory.
 */
export const FLAT_UPDATE_MAX_PARAMETERS = 1 << 22;
/** float32 copies the flat update holds during a step (weights, gradients and temporaries of the concatenated vector). */
const FLAT_UPDATE_COPIES = 6;

export interface TrainingShape {
  inputDim: number;
  layerUnits: number[];
  outputUnits: number;
  batch: number;
  /** Training rows held in memory (data.samples, or the CSV's rows when known). */
  samples: number;
  /** Vertices of every region together (the vertex pass runs them with every batch). */
  vertices: number;
  /** A global linear skip (jacobian / affine_map constraints) adds K × D weights. */
  skip: boolean;
}

export interface MemoryEstimate {
  parameters: number;
  /** Bytes: weights, gradients, Adam's two moments and the kept best copy (5 float32 per parameter), and the flat update's copies. */
  parameterBytes: number;
  /** Bytes: batch and vertex rows through every layer, forward values kept for the backward pass and their gradients. */
  activationBytes: number;
  /** Bytes: the training set (float64 while sampled, then float32 inputs and targets). */
  dataBytes: number;
  /** Bytes: the float64 certificate pass over every vertex. */
  certificateBytes: number;
  totalBytes: number;
}

export function estimateTrainingMemory(shape: TrainingShape): MemoryEstimate {
  const widths = [shape.inputDim, ...shape.layerUnits, shape.outputUnits];
  let parameters = shape.skip ? shape.outputUnits * shape.inputDim + shape.outputUnits : 0;
  for (let i = 1; i < widths.length; i++) parameters += widths[i - 1] * widths[i] + widths[i];
  const hidden = shape.layerUnits.reduce((sum, units) => sum + units, 0);
  const rows = shape.batch + shape.vertices;
  // Per row: the input, and per layer its pre-activation, activation and one gradient of each (4 float32).
  const activationBytes = rows * (shape.inputDim + 4 * (hidden + shape.outputUnits)) * 4;
  const flatUpdateCopies = parameters <= FLAT_UPDATE_MAX_PARAMETERS ? FLAT_UPDATE_COPIES : 0;
  const parameterBytes = parameters * (5 + flatUpdateCopies) * 4;
  const dataBytes = shape.samples * (shape.inputDim * (8 + 4) + shape.outputUnits * 4);
  const certificateBytes = shape.vertices * (shape.inputDim + hidden + shape.outputUnits) * 8;
  return {
    parameters,
    parameterBytes,
    activationBytes,
    dataBytes,
    certificateBytes,
    totalBytes: parameterBytes + activationBytes + dataBytes + certificateBytes,
  };
}

export function formatMemory(bytes: number): string {
  if (bytes >= GiB) return `${(bytes / GiB).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
  return `${Math.ceil(bytes / 1024)} KiB`;
}

/** "needs an estimated 12.0 GiB (…)" with the largest parts named, for a problem message. */
export function describeEstimate(estimate: MemoryEstimate): string {
  const parts: [string, number][] = [
    [`${estimate.parameters.toLocaleString('en-US')} parameters with gradients and Adam state`, estimate.parameterBytes],
    ['batch and vertex activations', estimate.activationBytes],
    ['training data', estimate.dataBytes],
    ['float64 certificate pass', estimate.certificateBytes],
  ];
  const shown = parts
    .filter(([, bytes]) => bytes >= estimate.totalBytes * 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([what, bytes]) => `${formatMemory(bytes)} ${what}`);
  return `an estimated ${formatMemory(estimate.totalBytes)} (${shown.join(', ')})`;
}
