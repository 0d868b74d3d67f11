// Text shown in the view's panels and tooltip (pure, so it can be unit-tested).
import type { LayerHealth, ViewCellDetails } from '../extension/protocol/messages';

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
    detail: `${h.shifted}/${h.units} shifted · mean |c| ${formatNumber(h.meanAbsShift)} · max ${formatNumber(h.maxAbsShift)}`,
  }));
}

function formatVector(values: number[]): string {
  return `[${values.map(formatNumber).join(', ')}]`;
}

/** Tooltip lines for a hovered point: where it is, f there, its cell, the cell's map and its distance to each region. */
export function describeCell(input: { x: number[]; y?: number[]; cellIndex: number; cell?: ViewCellDetails; regionNames: string[] }): string[] {
  const lines = [`x = ${formatVector(input.x)}`];
  if (input.y) lines.push(`f(x) = ${formatVector(input.y)}`);
  if (!input.cell) {
    lines.push('outside the computed partition');
    return lines;
  }
  lines.push(`linear region #${input.cellIndex}`);
  input.regionNames.forEach((name, r) => {
    const d = input.cell!.regionDistances[r];
    lines.push(d === 0 ? `same activation pattern as ${name} (distance 0)` : `activation-pattern distance to ${name}: ${d}`);
  });
  const rows = input.cell.A.length;
  for (let k = 0; k < Math.min(rows, 4); k++) lines.push(`y${k} = ${formatVector(input.cell.A[k])}·x + ${formatNumber(input.cell.b[k])}`);
  if (rows > 4) lines.push(`… ${rows - 4} more outputs`);
  return lines;
}
