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
/** A surface refresh never waits longer than this on the partition; past it the surface is sampled. */
export const PARTITION_TIME_LIMIT_MS = 8_000;

export function partitionOnPlane(network: FoldedNetwork, plane: ViewPlane, window: ViewWindow): PartitionResult {
  const smooth = network.layers.find((layer) => !isPiecewiseAffine(layer.activation));
  if (smooth) return { error: `'${smooth.activation}' is smooth: the network has no exact linear regions (surface sampled)` };
  try {
    return { partition: partitionPlane(network, plane, window, { maxCells: MAX_PARTITION_CELLS, timeLimitMs: PARTITION_TIME_LIMIT_MS }) };
  } catch (error) {
    return { error: `exact partition unavailable: ${error instanceof Error ? error.message : String(error)} (surface sampled)` };
  }
}
