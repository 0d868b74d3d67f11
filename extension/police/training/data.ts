// Training data from a resolved spec: expressions sampled on the domain, the paper's datasets, or a CSV file.
import { parse as parseCsvStream } from 'csv-parse';
import { openCheckedStream, READ_LIMITS } from '../io/safe-read';
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

/** Most rows a CSV may give (the schema's bound on data.samples): beyond it the file is refused with a message. */
export const CSV_ROW_LIMIT = 10_000_000;
/** Most numbers (rows × columns used) a CSV may give: 64 M float32 values are 256 MB of training data. */
export const CSV_VALUE_LIMIT = 64_000_000;

/** A Float32Array that doubles as rows arrive, so a streamed file never needs its rows twice in memory. */
class GrowingFloats {
  private data = new Float32Array(1024);
  length = 0;
  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Float32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }
  take(): Float32Array {
    return this.data.slice(0, this.length);
  }
}

/** Short enough to name a bad cell without copying a file into a message. */
const quoteCell = (raw: string): string => JSON.stringify(raw.length > 24 ? `${raw.slice(0, 24)}…` : raw);

export interface CsvLimits {
  rows: number;
  values: number;
}

/** Parses the CSV as a stream (csv-parse), keeping only the used columns as float32, within the row and value limits. */
async function fromCsv(spec: ResolvedSpec, path: string, inputs: string[], targets: string[], limits: CsvLimits): Promise<LoadedData> {
  let opened: ReturnType<typeof openCheckedStream>;
  try {
    opened = openCheckedStream(path, { kind: 'csv' });
  } catch (err) {
    throw new DataError(`cannot read csv file: ${err instanceof Error ? err.message : String(err)}`, path);
  }
  if (inputs.length !== spec.inputDim)
    throw new DataError(`${path}: ${inputs.length} input columns but input.dim is ${spec.inputDim}`, path);
  const parser = opened.stream.pipe(parseCsvStream({ info: true, skip_empty_lines: true, trim: true, bom: true }));
  const classification = spec.data.task === 'classification';
  const classes = spec.data.classes;
  const x = new GrowingFloats();
  const y = new GrowingFloats();
  const labels: number[] = [];
  let header: string[] | undefined;
  let headerLine = 1;
  let inputColumns: number[] = [];
  let targetColumns: number[] = [];
  let count = 0;
  const perRow = inputs.length + (classification ? 1 : targets.length);
  const numberAt = (row: CsvRecord, column: number): number => {
    const raw = row.record[column];
    const value = raw === undefined || raw === '' ? NaN : Number(raw);
    if (!Number.isFinite(value)) {
      throw new DataError(
        `${path}:${row.info.lines}:${column + 1}: ${raw === undefined || raw === '' ? 'empty value' : `value ${quoteCell(raw)} is not a number`} in column '${header?.[column]}'`,
        path,
        row.info.lines,
        column + 1,
      );
    }
    return value;
  };
  try {
    for await (const row of parser as AsyncIterable<CsvRecord>) {
      if (!header) {
        header = row.record;
        headerLine = row.info.lines;
        const columnOf = (name: string): number => {
          const index = header?.indexOf(name) ?? -1;
          if (index < 0) {
            const shown = header && header.length <= 20 && header.every((h) => h.length <= 64) ? ` (columns: ${header.join(', ')})` : '';
            throw new DataError(`${path}:${headerLine}: column '${name}' not found in the header${shown}`, path, headerLine);
          }
          return index;
        };
        inputColumns = inputs.map(columnOf);
        targetColumns = targets.map(columnOf);
        continue;
      }
      if (count >= limits.rows || (count + 1) * perRow > limits.values) {
        throw new DataError(
          `${path}:${row.info.lines}: more than ${count.toLocaleString('en-US')} data rows; training data are limited to ${limits.rows.toLocaleString('en-US')} rows and ${limits.values.toLocaleString('en-US')} values (rows × columns used)`,
          path,
          row.info.lines,
        );
      }
      for (const column of inputColumns) x.push(numberAt(row, column));
      if (classification) {
        const value = numberAt(row, targetColumns[0]);
        if (!Number.isInteger(value) || value < 0 || value >= classes) {
          throw new DataError(
            `${path}:${row.info.lines}:${targetColumns[0] + 1}: class ${quoteCell(row.record[targetColumns[0]])} in column '${targets[0]}' is not an integer in 0..${classes - 1}`,
            path,
            row.info.lines,
            targetColumns[0] + 1,
          );
        }
        labels.push(value);
      } else for (const column of targetColumns) y.push(numberAt(row, column));
      count++;
    }
  } catch (err) {
    opened.stream.destroy();
    if (err instanceof DataError) throw err;
    const line = (err as { lines?: number }).lines;
    throw new DataError(`${path}${line ? `:${line}` : ''}: ${err instanceof Error ? err.message : String(err)}`, path, line);
  }
  if (!header)
    throw new DataError(`${path}: the file is empty; it needs a header row naming the columns, then one row per sample`, path, 1);
  if (opened.stream.bytesRead > READ_LIMITS.csv)
    throw new DataError(`${path}: grew past the ${READ_LIMITS.csv / 1024 ** 2} MiB limit for a CSV file while it was read`, path);
  if (count === 0) throw new DataError(`${path}: the file has a header but no data rows`, path, headerLine + 1);
  const dim = spec.inputDim;
  if (classification) {
    const ids = Int32Array.from(labels);
    return { x: x.take(), y: oneHot(ids, classes), count, inputDim: dim, outputDim: classes, labels: ids };
  }
  return { x: x.take(), y: y.take(), count, inputDim: dim, outputDim: targetColumns.length };
}

/** Builds the training set; the same spec and seed give the same data. Rejects with a DataError naming the cause. */
export async function loadData(
  spec: ResolvedSpec,
  csvLimits: CsvLimits = { rows: CSV_ROW_LIMIT, values: CSV_VALUE_LIMIT },
): Promise<LoadedData> {
  const rng = createRng(deriveSeed(spec.training.seed, DATA_STREAM));
  const source = spec.data.source;
  switch (source.kind) {
    case 'expression':
      return fromExpressions(spec, source.expressions, rng);
    case 'dataset':
      return fromDataset(spec, source.name, rng);
    case 'csv':
      return fromCsv(spec, source.path, source.inputs, source.targets, csvLimits);
  }
}
