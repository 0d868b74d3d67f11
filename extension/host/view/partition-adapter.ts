// Bridge from the engine's exact partition (extension/police/partition.ts) to the view's cells.
import type { FoldedNetwork } from '../../police/network';
import type { ViewPlane, ViewWindow } from '../../protocol/messages';
import type { PlaneCell } from './surface';

export interface PartitionResult {
  cells: PlaneCell[];
  error?: string;
}

export function partitionOnPlane(_network: FoldedNetwork, _plane: ViewPlane, _window: ViewWindow): PartitionResult {
  return { cells: [], error: 'the exact partition (extension/police/partition.ts) is not available yet; the surface is sampled' };
}
