// The two losses a run reports and how every place shows them (status bar, view, Runs view, notifications, CLI): one
// name and one number format for each, so the same loss reads the same everywhere.

/** The loss of one step's mini-batch: what the optimizer minimised at that step, noisy from batch to batch. */
export const BATCH_LOSS = 'batch loss';
/** The loss of the kept network over every training sample, measured once when training ends. */
export const FULL_DATA_LOSS = 'full-data loss';

/** Four significant digits, exponent form below 1e-3 or from 1e4. */
export function formatLoss(loss: number): string {
  if (!Number.isFinite(loss)) return String(loss);
  if (loss === 0) return '0';
  const magnitude = Math.abs(loss);
  return magnitude >= 1e4 || magnitude < 1e-3 ? loss.toExponential(2) : loss.toPrecision(4);
}

/** "batch loss 0.1234 at step 5". */
export function batchLossText(loss: number, step?: number): string {
  return `${BATCH_LOSS} ${formatLoss(loss)}${step === undefined ? '' : ` at step ${step}`}`;
}

/** "full-data loss 0.1234". */
export function fullDataLossText(loss: number): string {
  return `${FULL_DATA_LOSS} ${formatLoss(loss)}`;
}

/** "step 800", or "kept step 704 of 800" when the kept network is not the last step's (see BestNetwork). */
export function keptStepText(keptStep: number, stepsDone: number): string {
  return keptStep === stepsDone ? `step ${stepsDone}` : `kept step ${keptStep} of ${stepsDone}`;
}

/** How much of the running average each new logged batch loss keeps (TensorBoard's smoothing weight). */
export const SMOOTHING = 0.8;

/**
 * Exponential moving average of the logged batch losses, debiased at the start like TensorBoard's: the trend under
 * the noise of single batches. Non-finite losses are passed through and do not enter the average. Live and reopened
 * runs smooth the same points (the metrics.jsonl rows), so they show the same smoothed loss.
 */
export function smoothLosses(losses: ArrayLike<number>, weight = SMOOTHING): number[] {
  const smoothed: number[] = [];
  let average = 0;
  let seen = 0;
  for (let i = 0; i < losses.length; i++) {
    const v = losses[i];
    if (!Number.isFinite(v)) {
      smoothed.push(v);
      continue;
    }
    average = weight * average + (1 - weight) * v;
    seen++;
    smoothed.push(average / (1 - weight ** seen));
  }
  return smoothed;
}
