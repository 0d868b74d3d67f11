// Text shown in the view's panels and tooltip (pure, so it can be unit-tested).
import type { CellInputMap, LayerHealth } from '../extension/protocol/messages';

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  return magnitude >= 1e4 || magnitude < 1e-3 ? value.toExponential(2) : Number(value.toPrecision(4)).toString();
}

export interface HealthRow {
  label: string;
  /** Share of units shifted, 0..1 (the bar). */
  fraction: number;
  detail: string;
}

export function formatHealth(health: LayerHealth[]): HealthRow[] {
  return health.map((h) => ({
    label: `layer ${h.layer}`,
    fraction: h.units > 0 ? Math.min(1, h.shifted / h.units) : 0,
    detail: `${h.shifted}/${h.units} shifted · mean |c| ${formatNumber(h.meanAbsShift)} · max ${formatNumber(h.maxAbsShift)} · ${h.sideFlips} side flip${h.sideFlips === 1 ? '' : 's'}`,
  }));
}

function formatVector(values: number[]): string {
  return `[${values.map(formatNumber).join(', ')}]`;
}

/**
 * Tooltip lines for a hovered point: where it is, f there, its cell, the cell's distance to each region and its map
 * in input coordinates (`map` absent while the worker computes it).
 */
export function describeCell(input: {
  x: number[];
  y?: number[];
  cellIndex: number;
  regionDistances?: number[];
  map?: CellInputMap;
  regionNames: string[];
  /** The worker is still locating the point's cell. */
  locating?: boolean;
  /** Why the worker could not locate the point or compute its cell's map (the request failed or timed out). */
  failure?: string;
  /** The partition's cell count when it has more cells than the view holds (the point's cell may be one not held). */
  undrawnCellCount?: number;
}): string[] {
  const lines = [`x = ${formatVector(input.x)}`];
  if (input.y) lines.push(`f(x) = ${formatVector(input.y)}`);
  if (input.cellIndex < 0 && input.undrawnCellCount !== undefined) {
    lines.push(`one of ${input.undrawnCellCount} linear regions (more than the view draws)`);
    return lines;
  }
  if (input.cellIndex < 0 && input.locating) {
    lines.push('linear region: locating…');
    return lines;
  }
  if (input.cellIndex < 0 && input.failure) {
    lines.push(`linear region not found: ${input.failure}`);
    return lines;
  }
  if (input.cellIndex < 0 || !input.regionDistances) {
    lines.push('outside the computed partition');
    return lines;
  }
  lines.push(`linear region #${input.cellIndex}`);
  const distances = input.regionDistances;
  input.regionNames.forEach((name, r) => {
    const d = distances[r];
    // A region added to the spec after this surface was computed has no distance yet.
    lines.push(
      d === undefined
        ? `distance to ${name}: n/a until the next surface`
        : d === 0
          ? `same activation pattern as ${name} (distance 0)`
          : `activation-pattern distance to ${name}: ${d}`,
    );
  });
  if (!input.map) {
    lines.push(input.failure ? `affine map not computed: ${input.failure}` : 'affine map: computing…');
    return lines;
  }
  const rows = input.map.A.length;
  for (let k = 0; k < Math.min(rows, 4); k++) lines.push(`y${k} = ${formatVector(input.map.A[k])}·x + ${formatNumber(input.map.b[k])}`);
  if (rows > 4) lines.push(`… ${rows - 4} more outputs`);
  return lines;
}
