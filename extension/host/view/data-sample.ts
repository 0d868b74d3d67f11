// A subsample of the training data for the view (the full set can be large; the view needs a few thousand).
import { loadData, type LoadedData } from '../../police/training/data';
import type { ResolvedSpec } from '../../police/spec/types';
import type { ViewShowData } from '../../protocol/messages';

/** Every k-th sample, so the subsample keeps the data's spread without a random source. */
export function pickSubsample(data: LoadedData, maxPoints: number): ViewShowData {
  const stride = Math.max(1, Math.ceil(data.count / Math.max(1, maxPoints)));
  const inputs: number[] = [];
  const targets: number[] = [];
  let count = 0;
  for (let n = 0; n < data.count; n += stride) {
    for (let d = 0; d < data.inputDim; d++) inputs.push(data.x[n * data.inputDim + d]);
    if (data.labels) targets.push(data.labels[n]);
    else for (let k = 0; k < data.outputDim; k++) targets.push(data.y[n * data.outputDim + k]);
    count++;
  }
  return { type: 'data', inputs, targets, count, labels: data.labels !== undefined };
}

/** The spec's training data (same generator and seed as the trainer), thinned for the view. */
export async function subsampleData(spec: ResolvedSpec, maxPoints: number): Promise<ViewShowData> {
  return pickSubsample(await loadData(spec), maxPoints);
}
