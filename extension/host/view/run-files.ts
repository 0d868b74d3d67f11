// Reading a finished run folder for the view (pure Node: no 'vscode').
import type { LayerHealth, LossPoints } from '../../protocol/messages';
import { readTextLimitedAsync } from '../../police/io/safe-read';

/** Loss curve of a run from metrics.jsonl (one JSON row per logged step) and its last row's constraint health; a torn last line is skipped. */
export async function readMetrics(path: string): Promise<{ points: LossPoints; health?: LayerHealth[] }> {
  const points: LossPoints = { steps: [], losses: [], elapsedMs: [] };
  let health: LayerHealth[] | undefined;
  let text = '';
  try {
    text = await readTextLimitedAsync(path, { kind: 'metrics' });
  } catch {
    return { points };
  }
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const row = JSON.parse(line) as { step?: unknown; loss?: unknown; elapsed_ms?: unknown; health?: unknown };
      if (typeof row.step === 'number' && typeof row.loss === 'number') {
        points.steps.push(row.step);
        points.losses.push(row.loss);
        points.elapsedMs.push(typeof row.elapsed_ms === 'number' ? row.elapsed_ms : Number.NaN);
        if (Array.isArray(row.health)) health = row.health as LayerHealth[];
      }
    } catch {
      // A killed run can leave half a line; the rows before it still make a curve.
    }
  }
  return { points, ...(health ? { health } : {}) };
}
