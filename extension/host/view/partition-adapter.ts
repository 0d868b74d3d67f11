// Bridge from the engine's exact partition (extension/police/partition/partition.ts) to the view: limits and messages.
import type { FoldedNetwork } from '../../police/network/network';
import { partitionPlane, type Partition } from '../../police/partition/partition';
import { isPiecewiseAffine } from '../../police/spec/activations';
import type { ViewPlane, ViewWindow } from '../../protocol/messages';

export interface PartitionResult {
  /** The exact partition, unless it could not be computed (then `error` says why and the surface is sampled). */
  partition?: Partition;
  error?: string;
}

/** Beyond this many cells the partition itself is refused (memory, seconds) and the surface is sampled instead. */
export const MAX_PARTITION_CELLS = 300_000;
/**
 * A surface asked for at once (a finished run, another spec or plane) waits at most this long on the partition; past it
 * the surface is sampled. Figure 1's trained network (about 200,000 cells) takes about 8 s on one busy CPU core.
 */
export const PARTITION_TIME_LIMIT_MS = 30_000;

export function partitionOnPlane(
  network: FoldedNetwork,
  plane: ViewPlane,
  window: ViewWindow,
  timeLimitMs = PARTITION_TIME_LIMIT_MS,
): PartitionResult {
  const smooth = network.layers.find((layer) => !isPiecewiseAffine(layer.activation));
  if (smooth) return { error: `'${smooth.activation}' is smooth: the network has no exact linear regions (surface sampled)` };
  if (timeLimitMs <= 0) return { error: 'too many linear regions to refresh live: the map is sampled until training ends' };
  try {
    return { partition: partitionPlane(network, plane, window, { maxCells: MAX_PARTITION_CELLS, timeLimitMs }) };
  } catch (error) {
    return { error: `exact partition unavailable: ${error instanceof Error ? error.message : String(error)} (surface sampled)` };
  }
}
