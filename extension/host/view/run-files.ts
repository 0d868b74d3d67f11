// Reading a finished run folder for the view (pure Node: no 'vscode').
import { readTextLimitedAsync } from '../../police/io/safe-read';

/** Loss curve of a run from metrics.jsonl (one JSON row per logged step); a torn last line is skipped. */
export async function readMetrics(path: string): Promise<{ steps: number[]; losses: number[] }> {
  const steps: number[] = [];
  const losses: number[] = [];
  let text = '';
  try {
    text = await readTextLimitedAsync(path, { kind: 'metrics' });
  } catch {
    return { steps, losses };
  }
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const row = JSON.parse(line) as { step?: unknown; loss?: unknown };
      if (typeof row.step === 'number' && typeof row.loss === 'number') {
        steps.push(row.step);
        losses.push(row.loss);
      }
    } catch {
      // A killed run can leave half a line; the rows before it still make a curve.
    }
  }
  return { steps, losses };
}
