// Training data from a resolved spec: expressions sampled on the domain, the paper's datasets, or a CSV file.
import { parse as parseCsv } from 'csv-parse/sync';
import { readFileSync } from 'node:fs';
import { DATASETS } from './datasets';
import { compileTarget, formatPoint } from '../spec/expression';
import { createRng, deriveSeed } from '../common/random';
import type { Rng } from '../common/random';
import type { ResolvedSpec } from '../spec/types';

export interface LoadedData {
  /** count × inputDim, row-major. */
  x: Float32Array;
  /** count × outputDim, row-major: targets for regression, one-hot for classification. */
  y: Float32Array;
  count: number;
  inputDim: number;
  outputDim: number;
  /** Class ids, for classification only. */
  labels?: Int32Array;
}

/** A data problem that names its origin (file, 1-based line and column where it applies). */
export class DataError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
    this.name = 'DataError';
  }
}

/** Stream number for data sampling, distinct from the trainer's initialisation and batching streams. */
export const DATA_STREAM = 1;

function oneHot(labels: Int32Array, classes: number): Float32Array {
  // Built by hand: tf.oneHot returns 1.4e-45 instead of 1 on the wasm backend.
  const y = new Float32Array(labels.length * classes);
  labels.forEach((label, i) => {
    y[i * classes + label] = 1;
  });
  return y;
}

function sampleDomain(spec: ResolvedSpec, count: number, rng: Rng): Float64Array {
  const dim = spec.inputDim;
  const x = new Float64Array(count * dim);
  for (let i = 0; i < count; i++) for (let k = 0; k < dim; k++) x[i * dim + k] = rng.uniform(spec.domain[k][0], spec.domain[k][1]);
  return x;
}

function fromExpressions(spec: ResolvedSpec, expressions: string[], rng: Rng): LoadedData {
  const dim = spec.inputDim;
  const count = spec.data.samples;
  const fns = expressions.map((text) => compileTarget(text, dim));
  const x64 = sampleDomain(spec, count, rng);
  const values = new Float64Array(count * fns.length);
  for (let i = 0; i < count; i++) {
    const point = x64.subarray(i * dim, (i + 1) * dim);
    for (let k = 0; k < fns.length; k++) {
      const value = fns[k](point);
      if (!Number.isFinite(value)) throw new DataError(`target '${expressions[k]}' produced ${value} at x=${formatPoint(point)}`);
      values[i * fns.length + k] = value;
    }
  }
  const x = Float32Array.from(x64);
  if (spec.data.task === 'classification') {
    const classes = spec.data.classes;
    const labels = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      if (fns.length === 1) labels[i] = values[i] > 0 ? 1 : 0;
      else {
        let best = 0;
        for (let k = 1; k < fns.length; k++) if (values[i * fns.length + k] > values[i * fns.length + best]) best = k;
        labels[i] = best;
      }
    }
    return { x, y: oneHot(labels, classes), count, inputDim: dim, outputDim: classes, labels };
  }
  const y = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) y[i] = values[i] + (spec.data.noise > 0 ? spec.data.noise * rng.normal() : 0);
  return { x, y, count, inputDim: dim, outputDim: fns.length };
}

function fromDataset(spec: ResolvedSpec, name: string, rng: Rng): LoadedData {
  const dataset = DATASETS[name];
  if (!dataset) throw new DataError(`unknown dataset '${name}': valid ones are ${Object.keys(DATASETS).join(', ')}`);
  if (spec.inputDim !== 2) throw new DataError(`dataset '${name}' is 2-D but input.dim is ${spec.inputDim}`);
  const count = spec.data.samples;
  if (dataset.task === 'regression') {
    const x64 = sampleDomain(spec, count, rng);
    const y = new Float32Array(count);
    for (let i = 0; i < count; i++)
      y[i] = dataset.target(x64[2 * i], x64[2 * i + 1]) + (spec.data.noise > 0 ? spec.data.noise * rng.normal() : 0);
    return { x: Float32Array.from(x64), y, count, inputDim: 2, outputDim: 1 };
  }
  const x = new Float32Array(count * 2);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    // Balanced classes, drawn in random order.
    const label = rng.int(dataset.classes);
    const [a, b] = dataset.sample(label, rng);
    x[2 * i] = a + spec.data.noise * rng.normal();
    x[2 * i + 1] = b + spec.data.noise * rng.normal();
    labels[i] = label;
  }
  return { x, y: oneHot(labels, dataset.classes), count, inputDim: 2, outputDim: dataset.classes, labels };
}

interface CsvRecord {
  record: string[];
  info: { lines: number };
}

function fromCsv(spec: ResolvedSpec, path: string, inputs: string[], targets: string[]): LoadedData {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DataError(`cannot read csv file ${path}: ${err instanceof Error ? err.message : String(err)}`, path);
  }
  let records: CsvRecord[];
  try {
    records = parseCsv(text, { info: true, skip_empty_lines: true, trim: true, bom: true }) as CsvRecord[];
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    throw new DataError(`${path}${line ? `:${line}` : ''}: ${err instanceof Error ? err.message : String(err)}`, path, line);
  }
  if (records.length === 0)
    throw new DataError(`${path}: the file is empty; it needs a header row naming the columns, then one row per sample`, path, 1);
  const header = records[0].record;
  const columnOf = (name: string): number => {
    const index = header.indexOf(name);
    if (index < 0)
      throw new DataError(
        `${path}:${records[0].info.lines}: column '${name}' not found in the header (columns: ${header.join(', ')})`,
        path,
        records[0].info.lines,
      );
    return index;
  };
  const inputColumns = inputs.map(columnOf);
  const targetColumns = targets.map(columnOf);
  const rows = records.slice(1);
  if (rows.length === 0) throw new DataError(`${path}: the file has a header but no data rows`, path, records[0].info.lines + 1);
  if (inputs.length !== spec.inputDim)
    throw new DataError(`${path}: ${inputs.length} input columns but input.dim is ${spec.inputDim}`, path);

  const numberAt = (row: CsvRecord, column: number): number => {
    const raw = row.record[column];
    const value = raw === undefined || raw === '' ? NaN : Number(raw);
    if (!Number.isFinite(value)) {
      throw new DataError(
        `${path}:${row.info.lines}:${column + 1}: ${raw === undefined || raw === '' ? 'empty value' : `value ${JSON.stringify(raw)} is not a number`} in column '${header[column]}'`,
        path,
        row.info.lines,
        column + 1,
      );
    }
    return value;
  };

  const count = rows.length;
  const dim = spec.inputDim;
  const x = new Float32Array(count * dim);
  rows.forEach((row, i) => inputColumns.forEach((column, k) => (x[i * dim + k] = numberAt(row, column))));
  if (spec.data.task === 'classification') {
    const classes = spec.data.classes;
    const labels = new Int32Array(count);
    rows.forEach((row, i) => {
      const value = numberAt(row, targetColumns[0]);
      if (!Number.isInteger(value) || value < 0 || value >= classes) {
        throw new DataError(
          `${path}:${row.info.lines}:${targetColumns[0] + 1}: class ${JSON.stringify(row.record[targetColumns[0]])} in column '${targets[0]}' is not an integer in 0..${classes - 1}`,
          path,
          row.info.lines,
          targetColumns[0] + 1,
        );
      }
      labels[i] = value;
    });
    return { x, y: oneHot(labels, classes), count, inputDim: dim, outputDim: classes, labels };
  }
  const outputs = targetColumns.length;
  const y = new Float32Array(count * outputs);
  rows.forEach((row, i) => targetColumns.forEach((column, k) => (y[i * outputs + k] = numberAt(row, column))));
  return { x, y, count, inputDim: dim, outputDim: outputs };
}

/** Builds the training set; the same spec and seed give the same data. Throws DataError naming the cause. */
export function loadData(spec: ResolvedSpec): LoadedData {
  const rng = createRng(deriveSeed(spec.training.seed, DATA_STREAM));
  const source = spec.data.source;
  switch (source.kind) {
    case 'expression':
      return fromExpressions(spec, source.expressions, rng);
    case 'dataset':
      return fromDataset(spec, source.name, rng);
    case 'csv':
      return fromCsv(spec, source.path, source.inputs, source.targets);
  }
}
