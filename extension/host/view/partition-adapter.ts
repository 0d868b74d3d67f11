// Bridge from the engine's exact partition (extension/police/partition.ts) to the view's cells.
import type { FoldedNetwork } from '../../police/network';
import { cellInputMap, cellPatternString, cellPolygon, partitionPlane } from '../../police/partition';
import { isPiecewiseAffine } from '../../police/patterns';
import type { ViewPlane, ViewWindow } from '../../protocol/messages';
import type { PlaneCell } from './surface';

export interface PartitionResult {
  cells: PlaneCell[];
  error?: string;
}

/** Cells beyond this are not sent: the view would be a blur of lines and the message tens of megabytes. */
export const MAX_VIEW_CELLS = 50_000;

export function partitionOnPlane(network: FoldedNetwork, plane: ViewPlane, window: ViewWindow): PartitionResult {
  const smooth = network.layers.find((layer) => !isPiecewiseAffine(layer.activation));
  if (smooth) {
    return { cells: [], error: `'${smooth.activation}' is smooth: the network has no exact linear regions (surface sampled)` };
  }
  try {
    const partition = partitionPlane(network, plane, window, { maxCells: MAX_VIEW_CELLS });
    const cells: PlaneCell[] = [];
    for (let i = 0; i < partition.cellCount; i++) {
      const map = cellInputMap(network, partition, i);
      const planeMap: number[][] = [];
      for (let k = 0; k < partition.outputDim; k++) planeMap.push(Array.from(partition.planeMaps.subarray((i * partition.outputDim + k) * 3, (i * partition.outputDim + k) * 3 + 3)));
      cells.push({ polygon: cellPolygon(partition, i), pattern: cellPatternString(partition, i), A: map.A, b: map.b, planeMap });
    }
    return { cells };
  } catch (error) {
    return { cells: [], error: `exact partition unavailable: ${error instanceof Error ? error.message : String(error)} (surface sampled)` };
  }
}
