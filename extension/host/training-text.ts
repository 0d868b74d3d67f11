// The words for a training's progress and outcome, one source for the status bar, the Runs view, notifications and the view.
import type { TrainingDone, TrainingProgress } from '../protocol/messages';
import { batchLossText, fullDataLossText, keptStepText } from '../police/training/loss-names';

/** "step 5/200 · batch loss 0.1234"; "starting" before the first step, "certifying" once the last is taken. */
export function progressText(progress: TrainingProgress | undefined, finishing: boolean): string {
  if (finishing) return 'certifying';
  if (!progress || progress.totalSteps <= 0) return 'starting';
  const loss = Number.isFinite(progress.loss) ? ` · ${batchLossText(progress.loss)}` : '';
  return `step ${progress.step}/${progress.totalSteps}${loss}`;
}

/** The certificate's verdict in two words or three. */
export function verdictText(done: Pick<TrainingDone, 'certificate'>): string {
  return done.certificate.proved ? 'proved' : 'not proved';
}

/** "proved · full-data loss 0.01234", plus " · kept step 704 of 800" when the run kept an earlier step than its last. */
export function outcomeText(done: Pick<TrainingDone, 'certificate' | 'record'>): string {
  const { record } = done;
  const kept = record.keptStep !== record.stepsDone ? ` · ${keptStepText(record.keptStep, record.stepsDone)}` : '';
  return `${verdictText(done)} · ${fullDataLossText(record.fullDataLoss)}${kept}`;
}
