// Turn a change of one training setting in the view's controls into one JSON edit of the spec text (pure: no 'vscode').
import { applyEdits, findNodeAtLocation, getNodeValue, modify, parseTree, type Edit } from 'jsonc-parser';
import type { ViewSettingChange } from '../../protocol/messages';
import { spanningEdit } from './vertex-edit';

export type SettingEditResult = { edits: Edit[]; newText: string } | { error: string };

/**
 * One edit (a single undo step) that writes `change` into the spec text: training.lr/steps, police.rule,
 * every hidden layer's units (width), the number of hidden layers (depth: the last layer is repeated or dropped),
 * data.dataset and data.noise. Comments and the layout of everything else are kept.
 */
export function computeSettingEdit(text: string, change: ViewSettingChange, tabSize = 2): SettingEditResult {
  const root = parseTree(text);
  if (!root || root.type !== 'object') return { error: 'the spec is not a JSON object' };
  const options = { formattingOptions: { tabSize, insertSpaces: true, eol: text.includes('\r\n') ? '\r\n' : '\n' } };
  const set = (path: (string | number)[], value: unknown): SettingEditResult =>
    finish(text, applyEdits(text, modify(text, path, value, options)));
  const positive = (value: number, what: string): string | undefined =>
    Number.isFinite(value) && value > 0 ? undefined : `${what} must be a positive number, got ${value}`;
  switch (change.setting) {
    case 'lr':
      return error(positive(change.value, 'the learning rate')) ?? set(['training', 'lr'], change.value);
    case 'steps':
      return (
        error(Number.isInteger(change.value) && change.value >= 1 ? undefined : `steps must be a whole number ≥ 1, got ${change.value}`) ??
        set(['training', 'steps'], change.value)
      );
    case 'rule':
      return set(['police', 'rule'], change.value);
    case 'noise':
      return (
        error(Number.isFinite(change.value) && change.value >= 0 ? undefined : `noise must be ≥ 0, got ${change.value}`) ??
        set(['data', 'noise'], change.value)
      );
    case 'dataset': {
      const data = findNodeAtLocation(root, ['data']);
      if (!data || findNodeAtLocation(data, ['dataset']) === undefined)
        return { error: 'this spec trains on an expression or a CSV file: pick a data set by writing "dataset" in its data block' };
      return set(['data', 'dataset'], change.value);
    }
    case 'width':
    case 'depth': {
      const layersNode = findNodeAtLocation(root, ['model', 'layers']);
      const layers = layersNode ? (getNodeValue(layersNode) as unknown) : undefined;
      if (!layersNode || !Array.isArray(layers) || layers.length === 0 || !layers.every((l) => typeof l === 'object' && l !== null))
        return { error: 'model.layers is not a list of layers' };
      if (!Number.isInteger(change.value) || change.value < 1)
        return { error: `${change.setting} must be a whole number ≥ 1, got ${change.value}` };
      const next =
        change.setting === 'width'
          ? layers.map((layer: object) => ({ ...layer, units: change.value }))
          : Array.from({ length: change.value }, (_, i) => (layers as object[])[Math.min(i, layers.length - 1)]);
      // Layers on one line each, as the examples write them.
      const indent = lineIndent(text, layersNode.offset);
      const unit = ' '.repeat(tabSize);
      const body = next.map((layer) => `${indent}${unit}${oneLine(layer)}`).join(`,${options.formattingOptions.eol}`);
      const content = `[${options.formattingOptions.eol}${body}${options.formattingOptions.eol}${indent}]`;
      return finish(text, applyEdits(text, [{ offset: layersNode.offset, length: layersNode.length, content }]));
    }
  }
}

function error(message: string | undefined): SettingEditResult | undefined {
  return message === undefined ? undefined : { error: message };
}

function finish(before: string, after: string): SettingEditResult {
  return { edits: [spanningEdit(before, after)], newText: after };
}

/** The leading whitespace of the line holding `offset`. */
function lineIndent(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start))?.[0] ?? '';
}

/** `{ "units": 64, "activation": "leaky_relu" }`. */
function oneLine(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(oneLine).join(', ')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${oneLine(v)}`);
    return entries.length ? `{ ${entries.join(', ')} }` : '{}';
  }
  return JSON.stringify(value);
}
