// The view's Gram heat-map data: per-layer filter cosines of a folded network (no vscode, unit-tested).
import { GRAM_MAX_UNITS, layerOrthogonality } from '../../police/analysis/orthogonality';
import type { FoldedNetwork } from '../../police/network/network';
import type { ViewGram, ViewGramLayer } from '../../protocol/messages';

/** Above this many units the whole-layer metric (units² × inputs products) is left to `police analyze`. */
export const GRAM_METRIC_MAX_UNITS = 1024;

/** Cosines of every layer with at least 2 units; wide layers show their first GRAM_MAX_UNITS filters. */
export function gramMessage(network: FoldedNetwork, step: number): ViewGram {
  const layers: ViewGramLayer[] = [];
  network.layers.forEach((layer, index) => {
    const units = layer.weights.length;
    if (units < 2) return;
    const shown = Math.min(units, GRAM_MAX_UNITS);
    const subset = layerOrthogonality(layer.weights.slice(0, shown), index, true);
    const metric =
      units === shown ? subset.metric : units <= GRAM_METRIC_MAX_UNITS ? layerOrthogonality(layer.weights, index, false).metric : undefined;
    layers.push({
      layer: index,
      units,
      activation: layer.activation,
      cosine: subset.cosine ?? [],
      shown,
      ...(metric === undefined ? {} : { metric }),
    });
  });
  return { type: 'gram', step, layers };
}
