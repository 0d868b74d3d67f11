// Training data shared by the training tests, drawn here so they do not depend on the data module's sampling.
import { createRng } from '../../extension/police/common/random';
import type { TrainingData } from '../../extension/police/training/train';

/** sin(2 x0) + x1 on [-2, 2]². */
export function waveData(count: number, seed = 1): TrainingData {
  const rng = createRng(seed);
  const x = new Float32Array(count * 2);
  const y = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    x[2 * i] = rng.uniform(-2, 2);
    x[2 * i + 1] = rng.uniform(-2, 2);
    y[i] = Math.sin(2 * x[2 * i]) + x[2 * i + 1];
  }
  return { x, y, count, inputDim: 2, outputDim: 1 };
}
