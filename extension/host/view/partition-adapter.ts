// Bridge from the engine's exact partition (extension/police/partition.ts) to the view's cells.
import type { FoldedNetwork } from '../../police/network';
import { cellInputMap, cellPatternString, cellPolygon, partitionPlane } from '../../police/partition';
import { isPiecewiseAffine } from '../../police/patterns';
import type { ViewPlane, ViewWindow } from '../../protocol/messages';
import type { PlaneCell } from './surface';

export interface PartitionResult {
  /** Every cell with its polygon and plane map (enough to sample the surface exactly). */
  cells: PlaneCell[];
  /** Whether the cells also carry input-space maps and patterns and go to the view (few enough to draw). */
  drawable: boolean;
  error?: string;
}

/** Beyond this many cells the view gets the exact surface but not the cells: a blur of lines and tens of MB. */
export const MAX_VIEW_CELLS = 30_000;
/** Beyond this many the partition itself is refused (memory, seconds) and the surface is sampled instead. */
export const MAX_PARTITION_CELLS = 300_000;
/** A surface refresh never waits longer than this on the partition; past it the surface is sampled. */
export const PARTITION_TIME_LIMIT_MS = 8_000;

export function partitionOnPlane(network: FoldedNetwork, plane: ViewPlane, window: ViewWindow): PartitionResult {
  const smooth = network.layers.find((layer) => !isPiecewiseAffine(layer.activation));
  if (smooth) {
    return { cells: [], drawable: false, error: `'${smooth.activation}' is smooth: the network has no exact linear regions (surface sampled)` };
  }
  try {
    const partition = partitionPlane(network, plane, window, { maxCells: MAX_PARTITION_CELLS, timeLimitMs: PARTITION_TIME_LIMIT_MS });
    const drawable = partition.cellCount <= MAX_VIEW_CELLS;
    const outputs = partition.outputDim;
    const cells: PlaneCell[] = [];
    for (let i = 0; i < partition.cellCount; i++) {
      const planeMap: number[][] = [];
      for (let k = 0; k < outputs; k++) planeMap.push(Array.from(partition.planeMaps.subarray((i * outputs + k) * 3, (i * outputs + k) * 3 + 3)));
      if (drawable) {
        const map = cellInputMap(network, partition, i);
        cells.push({ polygon: cellPolygon(partition, i), pattern: cellPatternString(partition, i), A: map.A, b: map.b, planeMap });
      } else {
        cells.push({ polygon: cellPolygon(partition, i), pattern: '', A: [], b: [], planeMap });
      }
    }
    return { cells, drawable };
  } catch (error) {
    return { cells: [], drawable: false, error: `exact partition unavailable: ${error instanceof Error ? error.message : String(error)} (surface sampled)` };
  }
}
