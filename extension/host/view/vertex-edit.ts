// Turn "vertex k of region r moved to p" into one JSON edit of the spec text (pure: no 'vscode').
import { applyEdits, findNodeAtLocation, getNodeValue, modify, parseTree, type Edit, type Node } from 'jsonc-parser';

export type VertexEditResult = { edits: Edit[]; newText: string } | { error: string };

/** Coordinates keep 4 decimals: enough for a drag, short enough to read in the spec. */
export function roundCoordinate(value: number): number {
  const rounded = Math.round(value * 1e4) / 1e4;
  return Object.is(rounded, -0) ? 0 : rounded;
}

function isNumberArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'number');
}

/**
 * Compute the edit that moves one vertex of a 2-D region: `vertices` moves that vertex, `box` moves the
 * min/max coordinates the dragged corner sits on, `polygon` changes the radius to |to − center|.
 * `from` is the vertex as the view drew it (decides which box bounds move).
 */
export function computeVertexEdit(
  text: string,
  regionIndex: number,
  vertexIndex: number,
  from: number[],
  to: number[],
  tabSize = 2,
): VertexEditResult {
  const root = parseTree(text);
  if (!root) return { error: 'the spec is not valid JSON' };
  const region: Node | undefined = findNodeAtLocation(root, ['regions', regionIndex]);
  if (!region || region.type !== 'object') return { error: `regions[${regionIndex}] does not exist in the spec` };
  if (to.length !== 2 || !to.every(Number.isFinite)) return { error: `target position ${JSON.stringify(to)} is not a finite 2-D point` };
  const target = to.map(roundCoordinate);
  const options = { formattingOptions: { tabSize, insertSpaces: true, eol: text.includes('\r\n') ? '\r\n' : '\n' } };
  const name = `regions[${regionIndex}]`;

  const vertices = findNodeAtLocation(region, ['vertices']);
  if (vertices) {
    const vertex = findNodeAtLocation(vertices, [vertexIndex]);
    if (!vertex || !isNumberArray(getNodeValue(vertex))) return { error: `${name}.vertices[${vertexIndex}] is not a list of numbers` };
    return finish(text, [replaceNode(vertex, target)]);
  }

  const box = findNodeAtLocation(region, ['box']);
  if (box) {
    const value = getNodeValue(box) as { min?: unknown; max?: unknown };
    if (!isNumberArray(value.min) || !isNumberArray(value.max) || value.min.length !== 2 || value.max.length !== 2) {
      return { error: `${name}.box needs 2-D min and max to be dragged` };
    }
    const min = [...value.min];
    const max = [...value.max];
    for (let d = 0; d < 2; d++) {
      // The dragged corner owns whichever bound it sits closer to in each coordinate.
      const movesMin = Math.abs(from[d] - min[d]) <= Math.abs(from[d] - max[d]);
      if (movesMin) min[d] = target[d];
      else max[d] = target[d];
    }
    const lo = [Math.min(min[0], max[0]), Math.min(min[1], max[1])];
    const hi = [Math.max(min[0], max[0]), Math.max(min[1], max[1])];
    const minNode = findNodeAtLocation(box, ['min']);
    const maxNode = findNodeAtLocation(box, ['max']);
    if (!minNode || !maxNode) return { error: `${name}.box needs min and max` };
    const edited = applyEdits(
      text,
      [replaceNode(minNode, lo), replaceNode(maxNode, hi)].sort((a, b) => b.offset - a.offset),
    );
    // One edit over the union keeps a single undo step and avoids overlapping ranges.
    return finish(text, [spanningEdit(text, edited)]);
  }

  const polygon = findNodeAtLocation(region, ['polygon']);
  if (polygon) {
    const value = getNodeValue(polygon) as { center?: unknown };
    if (!isNumberArray(value.center) || value.center.length !== 2) return { error: `${name}.polygon.center is not a 2-D point` };
    const radius = roundCoordinate(Math.hypot(target[0] - value.center[0], target[1] - value.center[1]));
    if (!(radius > 0)) return { error: `${name}.polygon: a vertex cannot be dropped on the center` };
    return finish(text, modify(text, ['regions', regionIndex, 'polygon', 'radius'], radius, options));
  }
  return { error: `${name} cannot be edited by dragging (only 2-D vertices, box and polygon regions can)` };
}

/** Replace a JSON node's text with a compact one-line value, as the user writes points: [x, y]. */
function replaceNode(node: Node, value: number[]): Edit {
  return { offset: node.offset, length: node.length, content: `[${value.join(', ')}]` };
}

/** The smallest single replacement turning `before` into `after`. */
export function spanningEdit(before: string, after: string): Edit {
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let endBefore = before.length;
  let endAfter = after.length;
  while (endBefore > start && endAfter > start && before[endBefore - 1] === after[endAfter - 1]) {
    endBefore--;
    endAfter--;
  }
  return { offset: start, length: endBefore - start, content: after.slice(start, endAfter) };
}

function finish(text: string, edits: Edit[]): VertexEditResult {
  return { edits, newText: applyEdits(text, edits) };
}
