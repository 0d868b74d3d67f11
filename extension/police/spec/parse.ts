// Spec text → ResolvedSpec | Problems: jsonc-parser (offsets), ajv (schema), then the checks a schema cannot express.
import Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { parse as parseCsv } from 'csv-parse/sync';
import { getNodeValue, parseTree, printParseErrorCode } from 'jsonc-parser';
import type { Node as JsonNode, ParseError } from 'jsonc-parser';
import { dirname, extname, resolve } from 'node:path';
import schema from '../../../schemas/police.schema.json';
import { DATASETS } from '../training/datasets';
import { describeEstimate, estimateTrainingMemory, formatMemory, TRAINING_MEMORY_LIMIT } from '../training/memory';
import { CSV_ROW_LIMIT } from '../training/data';
import { checkRegularFile, confinedPath, readFileHead, SafeReadError, type DataRoots } from '../io/safe-read';
import { compileExpression, formatPoint, parseExpression } from './expression';
import type { Problem, Range, Severity } from './problems';
import { createRng } from '../common/random';
import { boundingBox, checkVertexSet, regionsOverlap, regionToVertices } from '../geometry/regions';
import { EXACT_ACTIVATIONS, isAnnealable, type Activation } from './activations';
import { DEFAULTS, SHIFT_RULES } from './types';
import type { DataSource, Matrix, RawRegionSpec, ResolvedConstraint, ResolvedRegion, ResolvedSpec } from './types';

/** Where the files a spec names may be read from; by default the spec's own folder tree. */
export interface ValidateOptions {
  dataRoots?: DataRoots;
  /** How the user allows data elsewhere, named in the problem (a CLI flag, a setting). */
  optIn?: string;
}

export const DEFAULT_OPT_IN = 'pass --allow-data-outside to read it anyway';

export interface ValidationResult {
  /** Present only when there is no error (warnings allowed). */
  spec?: ResolvedSpec;
  problems: Problem[];
}

type Path = (string | number)[];
type Json = Record<string, unknown>;

/** The schema's bound on input.dim, so no check allocates per-dimension arrays of absurd size. */
const MAX_INPUT_DIM: number = schema.properties.input.properties.dim.maximum;

/** Work allowed for the pairwise region-overlap LPs, in (P+Q)²·(D+2) units (two 100-gons cost 160,000, about 60 ms here). */
const OVERLAP_BUDGET = 1_000_000;

/** Every activation the schema accepts; exact ones are listed in spec.ts. */
const KNOWN_ACTIVATIONS: string[] = schema.definitions.layer.properties.activation.enum;

let compiled: ValidateFunction | undefined;
/** Compiles the schema now (tens of ms): a validation worker does it before saying it is ready, so no spec pays for it. */
export function schemaValidator(): ValidateFunction {
  // verbose gives each error its schema and data, needed to pick the branch a oneOf was meant to match.
  compiled ??= new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true, strict: false }).compile(schema);
  return compiled;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumberArray = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
const isMatrix = (v: unknown): v is number[][] => Array.isArray(v) && v.every(isNumberArray);
const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;
const plural = (n: number, word: string): string => `${n} ${n === 1 ? word : word.endsWith('y') ? `${word.slice(0, -1)}ies` : `${word}s`}`;

/** Positions from offsets, in UTF-16 code units as VS Code counts them. */
class LineMap {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) this.starts.push(i + 1);
      else if (c === 13) {
        if (text.charCodeAt(i + 1) === 10) i++;
        this.starts.push(i + 1);
      }
    }
  }
  position(offset: number): { line: number; character: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: offset - this.starts[lo] };
  }
  range(offset: number, length: number): Range {
    return { start: this.position(offset), end: this.position(offset + length) };
  }
}

/** Maps an index in a JSON string's decoded value to an offset in the file (escapes take several characters). */
function decodedToRaw(text: string, stringNode: JsonNode, decodedIndex: number): number {
  let raw = stringNode.offset + 1;
  const end = stringNode.offset + stringNode.length - 1;
  for (let k = 0; k < decodedIndex && raw < end; k++) {
    if (text[raw] === '\\') raw += text[raw + 1] === 'u' ? 6 : 2;
    else raw += 1;
  }
  return raw;
}

const SYNTAX_MESSAGES: Record<string, string> = {
  InvalidSymbol: 'invalid character',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes (trailing commas are not allowed)',
  ValueExpected: 'expected a value (trailing commas are not allowed)',
  ColonExpected: "expected ':'",
  CommaExpected: "expected ','",
  CloseBraceExpected: "expected '}'",
  CloseBracketExpected: "expected ']'",
  EndOfFileExpected: 'expected the end of the file after the top-level object',
  InvalidCommentToken: 'invalid comment',
  UnexpectedEndOfComment: 'unterminated comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid unicode escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter: 'invalid character in string',
};

/** Names and values from the spec are quoted in messages, never at length: the range already points at them. */
function clampMessage(message: string): string {
  const short = message.replace(
    /(['"])([^'"\n]{61,}?)\1/g,
    (_match, quote: string, body: string) => `${quote}${body.slice(0, 57)}…${quote}`,
  );
  return short.length > 1000 ? `${short.slice(0, 999)}…` : short;
}

/** A value from the spec, quoted for a message but never at length. */
function quoteValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function describeType(type: unknown): string {
  const names: Record<string, string> = {
    number: 'a number',
    integer: 'an integer',
    string: 'a string',
    array: 'an array',
    object: 'an object',
    boolean: 'true or false',
    null: 'null',
  };
  const list = (Array.isArray(type) ? type : [type]).map((t) => names[String(t)] ?? String(t));
  return list.length > 1 ? `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}` : list[0];
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

function suggestion(word: string, candidates: string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best ? ` (did you mean '${best}'?)` : '';
}

function pointerToPath(pointer: string): string[] {
  return pointer === ''
    ? []
    : pointer
        .slice(1)
        .split('/')
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

class Validator {
  readonly problems: Problem[] = [];
  private readonly lines: LineMap;
  constructor(
    readonly text: string,
    private readonly root: JsonNode | undefined,
  ) {
    this.lines = new LineMap(text);
  }

  add(message: string, severity: Severity, code: string, offset: number, length: number): void {
    const start = Math.max(0, Math.min(offset, this.text.length));
    const len = Math.max(0, Math.min(length, this.text.length - start));
    this.problems.push({ message: clampMessage(message), severity, code, offset: start, length: len, range: this.lines.range(start, len) });
  }

  /** The node at `path` and whether the whole path exists (numbers or numeric strings index arrays). */
  lookup(path: Path): { node: JsonNode | undefined; complete: boolean } {
    let node = this.root;
    for (const segment of path) {
      if (!node) return { node, complete: false };
      const next: JsonNode | undefined =
        node.type === 'array'
          ? node.children?.[Number(segment)]
          : node.type === 'object'
            ? node.children?.find((p) => p.children?.[0]?.value === String(segment))?.children?.[1]
            : undefined;
      if (!next) return { node, complete: false };
      node = next;
    }
    return { node, complete: true };
  }

  /** The deepest existing node along `path`. */
  node(path: Path): JsonNode | undefined {
    return this.lookup(path).node;
  }

  /** The key node of the property at `path` (for "unknown property", form names, missing members). */
  keyNode(path: Path): JsonNode | undefined {
    if (path.length === 0) return undefined;
    const { node, complete } = this.lookup(path);
    const property = complete ? node?.parent : undefined;
    return property?.type === 'property' ? property.children?.[0] : undefined;
  }

  at(path: Path, message: string, severity: Severity, code: string, options: { key?: boolean } = {}): void {
    const key = options.key ? this.keyNode(path) : undefined;
    const node = key ?? this.node(path);
    if (!node) {
      this.add(message, severity, code, 0, 1);
      return;
    }
    // A whole multi-line object would be squiggled end to end: point at its key, or its first character when it is large.
    if (!key && (node.type === 'object' || node.type === 'array') && this.spansLines(node)) {
      const ownKey = path.length > 0 ? this.keyNode(path) : undefined;
      if (ownKey) this.add(message, severity, code, ownKey.offset, ownKey.length);
      else this.add(message, severity, code, node.offset, node.length <= 200 ? node.length : 1);
      return;
    }
    this.add(message, severity, code, node.offset, node.length);
  }

  private spansLines(node: JsonNode): boolean {
    return /[\r\n]/.test(this.text.slice(node.offset, node.offset + node.length));
  }

  hasErrors(): boolean {
    return this.problems.some((p) => p.severity === 'error');
  }
}

// ---------- Schema errors ----------

function schemaProblems(v: Validator, value: unknown): void {
  const validate = schemaValidator();
  if (validate(value)) return;
  const errors = (validate.errors ?? []) as ErrorObject[];
  const dropped = new Set<ErrorObject>();
  const ambiguous = new Set<ErrorObject>();

  // A failed oneOf: keep only the branch the value was meant for (chosen by its required key), or explain the choice.
  for (const error of errors) {
    if (error.keyword !== 'oneOf') continue;
    const prefix = `${error.schemaPath}/`;
    const sameSpot = errors.filter((e) => e !== error && e.instancePath === error.instancePath && e.schemaPath.startsWith(prefix));
    const branches = (error.schema ?? []) as { required?: string[]; const?: unknown }[];
    const data = error.data;
    const passing = (error.params as { passingSchemas?: number[] | null }).passingSchemas;
    const keyed = branches
      .map((b, i) => (isObject(data) && b.required?.length === 1 && Object.prototype.hasOwnProperty.call(data, b.required[0]) ? i : -1))
      .filter((i) => i >= 0);
    if (keyed.length > 1) {
      // Keys of two alternatives at once: one message saying so, not each branch's complaint about the other's key.
      for (const e of sameSpot) dropped.add(e);
      ambiguous.add(error);
      continue;
    }
    const chosen = keyed.length === 1 ? keyed[0] : -1;
    for (const e of sameSpot) if (!e.schemaPath.startsWith(`${prefix}${chosen}/`)) dropped.add(e);
    // A branch reached through $ref reports its type mismatch under the definition's path: it belongs to this oneOf too.
    if (chosen < 0) for (const e of errors) if (e.keyword === 'type' && e.instancePath === error.instancePath) dropped.add(e);
    const deeper = errors.some((e) => !dropped.has(e) && e !== error && e.instancePath.startsWith(`${error.instancePath}/`));
    const chosenFailed = chosen >= 0 && sameSpot.some((e) => e.schemaPath.startsWith(`${prefix}${chosen}/`));
    if (passing || (!deeper && !chosenFailed)) continue; // explained below
    dropped.add(error);
  }

  for (const error of errors) {
    if (dropped.has(error)) continue;
    const path: Path = pointerToPath(error.instancePath);
    const params = error.params as Record<string, unknown>;
    const where = path.length > 0 ? `'${path.join('.')}'` : 'the spec';
    switch (error.keyword) {
      case 'additionalProperties': {
        const name = String(params.additionalProperty);
        const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
        v.at(
          [...path, name],
          `unknown property '${name}'${suggestion(name, known)}${known.length > 0 ? `; ${where} takes ${known.filter((k) => k !== '$schema').join(', ')}` : ''}`,
          'error',
          'schema',
          { key: true },
        );
        break;
      }
      case 'required': {
        const missing = String(params.missingProperty);
        v.at(path, `missing property '${missing}' in ${where}`, 'error', 'schema', { key: true });
        break;
      }
      case 'type':
        v.at(path, `expected ${describeType(params.type)}`, 'error', 'schema');
        break;
      case 'enum': {
        const allowed = (params.allowedValues as unknown[]).map(String);
        const last = String(path[path.length - 1] ?? '');
        const what = last === 'activation' ? 'activation' : last === 'dataset' ? 'dataset' : `value for '${last}'`;
        v.at(
          path,
          `unknown ${what} ${quoteValue(error.data)}${typeof error.data === 'string' ? suggestion(error.data, allowed) : ''}: valid ones are ${allowed.join(', ')}`,
          'error',
          last === 'activation' ? 'unknown-activation' : 'schema',
        );
        break;
      }
      case 'const':
        v.at(path, `expected ${JSON.stringify(params.allowedValue)}`, 'error', 'schema');
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum': {
        const symbol = { minimum: '≥', maximum: '≤', exclusiveMinimum: '>', exclusiveMaximum: '<' }[error.keyword];
        v.at(path, `must be ${symbol} ${String(params.limit)}, got ${quoteValue(error.data)}`, 'error', 'schema');
        break;
      }
      case 'minItems':
        v.at(path, `needs at least ${plural(Number(params.limit), 'item')}`, 'error', 'schema');
        break;
      case 'maxItems':
        v.at(path, `takes at most ${plural(Number(params.limit), 'item')}`, 'error', 'schema');
        break;
      case 'minLength':
        v.at(path, 'must not be empty', 'error', 'schema');
        break;
      case 'oneOf': {
        const passing = params.passingSchemas as number[] | null;
        const last = String(path[path.length - 1] ?? '');
        if (path[0] === 'regions' && path.length === 2) {
          // The region checks report the form, with the region's name.
        } else if (last === 'constraint') {
          v.at(
            path,
            passing || ambiguous.has(error)
              ? 'a constraint takes either jacobian or affine_map, not both'
              : 'a constraint is "affine", {"jacobian": A} or {"affine_map": {"A": …, "b": …}}',
            'error',
            'schema',
          );
        } else if (last === 'target') {
          v.at(path, 'expected an expression (a string) or an array of expressions, one per output', 'error', 'schema');
        } else {
          v.at(path, `${where} does not match any allowed form`, 'error', 'schema');
        }
        break;
      }
      default:
        v.at(path, `${where} ${error.message ?? 'is invalid'}`, 'error', 'schema');
    }
  }
}

function duplicateKeys(v: Validator, node: JsonNode | undefined): void {
  if (!node?.children) return;
  if (node.type === 'object') {
    const seen = new Set<string>();
    for (const property of node.children) {
      const key = property.children?.[0];
      if (!key) continue;
      const name = String(key.value);
      if (seen.has(name)) v.add(`duplicate property '${name}': the last one wins`, 'warning', 'duplicate-key', key.offset, key.length);
      seen.add(name);
    }
  }
  for (const child of node.children) duplicateKeys(v, child);
}

// ---------- Semantic checks ----------

interface Context {
  v: Validator;
  raw: Json;
  dim?: number;
  outputUnits?: number;
  specDir: string;
  dataRoots: DataRoots;
  optIn: string;
  /** Rows of the CSV (an upper bound from its size), for the memory estimate. */
  csvRows?: number;
}

function checkMatrixShape(
  c: Context,
  path: Path,
  value: unknown,
  rows: number | undefined,
  cols: number | undefined,
  what: string,
  owner: string,
): boolean {
  if (!isMatrix(value)) return false;
  let ok = true;
  if (rows !== undefined && value.length !== rows) {
    c.v.at(
      path,
      `${owner}${what} has ${plural(value.length, 'row')} but model.output.units is ${rows} (one row per output)`,
      'error',
      'dimension-mismatch',
    );
    ok = false;
  }
  if (cols !== undefined) {
    value.forEach((row, i) => {
      if (row.length !== cols) {
        c.v.at(
          [...path, i],
          `${owner}row ${i} of ${what} has ${plural(row.length, 'column')} but input.dim is ${cols}`,
          'error',
          'dimension-mismatch',
        );
        ok = false;
      }
    });
  }
  return ok;
}

function resolveConstraint(c: Context, path: Path, raw: unknown, regionName: string): ResolvedConstraint | undefined {
  if (raw === undefined || raw === 'affine') return { kind: 'affine' };
  const owner = `region '${regionName}': `;
  if (!isObject(raw)) return undefined;
  if (raw.jacobian !== undefined) {
    return checkMatrixShape(c, [...path, 'jacobian'], raw.jacobian, c.outputUnits, c.dim, 'the jacobian', owner)
      ? { kind: 'jacobian', A: raw.jacobian as Matrix }
      : undefined;
  }
  const map = raw.affine_map;
  if (isObject(map)) {
    const okA = checkMatrixShape(c, [...path, 'affine_map', 'A'], map.A, c.outputUnits, c.dim, 'affine_map.A', owner);
    let okB = isNumberArray(map.b);
    if (okB && c.outputUnits !== undefined && (map.b as number[]).length !== c.outputUnits) {
      c.v.at(
        [...path, 'affine_map', 'b'],
        `${owner}affine_map.b has ${plural((map.b as number[]).length, 'entry')} but model.output.units is ${c.outputUnits}`,
        'error',
        'dimension-mismatch',
      );
      okB = false;
    }
    return okA && okB ? { kind: 'affine_map', A: map.A as Matrix, b: map.b as number[] } : undefined;
  }
  return undefined;
}

function checkRegions(c: Context, domain: [number, number][] | undefined): ResolvedRegion[] | undefined {
  const regions = c.raw.regions;
  if (!Array.isArray(regions) || c.dim === undefined) return undefined;
  const dim = c.dim;
  const resolved: (ResolvedRegion | undefined)[] = [];
  const names = new Map<string, number>();
  let exactConstraintRegion: string | undefined;
  regions.forEach((region: unknown, index) => {
    if (!isObject(region)) {
      c.v.at(
        ['regions', index],
        `region ${index} is ${describeValue(region)}: a region is an object with a name and one of ${REGION_FORM_NAMES}`,
        'error',
        'region-form',
      );
      resolved.push(undefined);
      return;
    }
    const base: Path = ['regions', index];
    const name = typeof region.name === 'string' && region.name.length > 0 ? region.name : `region ${index}`;
    if (names.has(name))
      c.v.at(
        [...base, 'name'],
        `region name '${name}' is already used by region ${names.get(name)}; names must be unique`,
        'error',
        'duplicate-name',
      );
    names.set(name, index);

    const conversion = regionToVertices(region as unknown as RawRegionSpec, dim);
    for (const issue of conversion.issues) {
      c.v.at([...base, ...issue.path], `region '${name}': ${issue.message}`, issue.severity, issue.code, { key: issue.path.length === 1 });
    }
    let vertices = conversion.vertices;
    if (vertices && conversion.form) {
      const shapeIssues = checkVertexSet(conversion.form, vertices, dim);
      for (const issue of shapeIssues)
        c.v.at([...base, ...issue.path], `region '${name}': ${issue.message}`, issue.severity, issue.code, {
          key: issue.path.length === 1,
        });
      if (shapeIssues.some((i) => i.severity === 'error')) vertices = undefined;
    }
    const constraint = resolveConstraint(c, [...base, 'constraint'], region.constraint, name);
    if (constraint && constraint.kind !== 'affine') {
      if (exactConstraintRegion === undefined) exactConstraintRegion = name;
      else {
        c.v.at(
          [...base, 'constraint'],
          `region '${name}': only the first jacobian/affine_map region ('${exactConstraintRegion}') is exact (through the linear skip); this one is enforced by a penalty on its vertices, and its certificate reports the residual`,
          'warning',
          'penalty-constraint',
          { key: true },
        );
      }
    }
    if (vertices && domain && conversion.form) {
      const outside = vertices.findIndex((p) => p.some((x, k) => x < domain[k][0] || x > domain[k][1]));
      if (outside >= 0) {
        c.v.at(
          [...base, conversion.form],
          `region '${name}': vertex ${outside} ${formatPoint(vertices[outside])} lies outside input.domain, where no training data are drawn`,
          'warning',
          'outside-domain',
          { key: true },
        );
      }
    }
    resolved.push(vertices && constraint && conversion.form ? { name, vertices, constraint, form: conversion.form } : undefined);
  });

  // Pairwise overlap by LP, within a budget on the work ((P+Q)²·(D+2) per pair, about 0.4 s in all), since it is a warning only.
  let budget = OVERLAP_BUDGET;
  const unchecked: string[] = [];
  for (let i = 0; i < resolved.length; i++) {
    for (let j = i + 1; j < resolved.length; j++) {
      const a = resolved[i];
      const b = resolved[j];
      if (!a || !b) continue;
      const cost = (a.vertices.length + b.vertices.length) ** 2 * (dim + 2);
      if (cost > budget) {
        unchecked.push(`'${a.name}' and '${b.name}'`);
        continue;
      }
      budget -= cost;
      if (regionsOverlap(a.vertices, b.vertices) === 'overlap') {
        c.v.at(
          ['regions', j, b.form],
          `regions '${a.name}' and '${b.name}' overlap: the network must be affine on both at once, so they share one affine map (and their constraints must agree there)`,
          'warning',
          'region-overlap',
          { key: true },
        );
      }
    }
  }
  if (unchecked.length > 0)
    c.v.at(
      ['regions'],
      `overlap not checked for ${unchecked.length > 3 ? `${unchecked.slice(0, 3).join(', ')} and ${unchecked.length - 3} more pairs` : unchecked.join(', ')}: too many vertices to check while editing`,
      'info',
      'region-overlap-unchecked',
      { key: true },
    );
  return resolved.every((r) => r !== undefined) ? (resolved as ResolvedRegion[]) : undefined;
}

/**
 * Refuses, with the estimate and the limit, a training that would not fit in memory (from declared sizes alone,
 * nothing is built). Returns whether it fits.
 */
function checkMemory(c: Context, layers: ResolvedSpec['layers'], vertices: number, samples: number, classes: number): boolean {
  const training = isObject(c.raw.training) ? c.raw.training : {};
  const estimate = estimateTrainingMemory({
    inputDim: c.dim ?? 0,
    layerUnits: layers.map((l) => l.units),
    outputUnits: Math.max(c.outputUnits ?? 0, classes),
    batch: isPositiveInt(training.batch) ? training.batch : DEFAULTS.batch,
    samples,
    vertices,
    skip: Array.isArray(c.raw.regions) && c.raw.regions.some((r) => isObject(r) && isObject(r.constraint)),
  });
  if (estimate.totalBytes <= TRAINING_MEMORY_LIMIT) return true;
  c.v.at(
    ['model', 'layers'],
    `training this spec needs ${describeEstimate(estimate)}, more than the ${formatMemory(TRAINING_MEMORY_LIMIT)} a training may use (the wasm heap ends at 4 GiB); use narrower or fewer layers, a smaller batch or data.samples, or fewer vertices`,
    'error',
    'memory-limit',
    { key: true },
  );
  return false;
}

function defaultDomain(dim: number, regions: ResolvedRegion[] | undefined, dataset: unknown): [number, number][] {
  const domain: [number, number][] = Array.from({ length: dim }, () => [-1, 1]);
  const points = typeof dataset === 'string' ? DATASETS[dataset] : undefined;
  if (points?.task === 'classification' && dim === 2) {
    for (let k = 0; k < 2; k++) domain[k] = [Math.min(domain[k][0], points.extent[k][0]), Math.max(domain[k][1], points.extent[k][1])];
  }
  if (regions && regions.length > 0) {
    const box = boundingBox(regions.flatMap((r) => r.vertices));
    for (let k = 0; k < dim; k++) {
      domain[k] = [Math.min(domain[k][0], box.min[k]), Math.max(domain[k][1], box.max[k])];
    }
  }
  // Widen by 10% of the width on each side so the regions do not touch the edge of the view.
  return domain.map(([lo, hi]) => {
    const pad = 0.1 * (hi - lo);
    return [lo - pad, hi + pad];
  });
}

const REGION_FORM_NAMES = 'vertices, box, simplex, polygon or halfspaces';

/** What a JSON value is, in words, without quoting it at length. */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return `${value}`;
  return typeof value;
}

/** Reads the first line of a file cheaply (the csv header), without loading the whole file. */
function readFirstLine(path: string): string {
  const text = readFileHead(path, 64 * 1024, { kind: 'csv' })
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  const newline = text.search(/\r?\n/);
  return newline >= 0 ? text.slice(0, newline) : text;
}

/**
 * A header POLICE may quote back: a .csv/.tsv file whose first line is short printable column names. Anything
 * else (a key file, /etc/passwd, a binary) is never quoted in a problem.
 */
function quotableHeader(file: string, header: string[]): boolean {
  return (
    ['.csv', '.tsv'].includes(extname(file).toLowerCase()) &&
    header.length <= 256 &&
    header.every((name) => name.length <= 64 && /^[\p{L}\p{N} _.()\-[\]/#%+*^]*$/u.test(name))
  );
}

function listColumns(header: string[]): string {
  return header.length <= 20 ? header.join(', ') : `${header.slice(0, 20).join(', ')} and ${header.length - 20} more`;
}

function checkExpression(c: Context, path: Path, text: string, domain: [number, number][] | undefined, seed: number): boolean {
  if (c.dim === undefined) return false;
  const node = c.v.node(path);
  const parsed = parseExpression(text, c.dim);
  for (const error of parsed.errors) {
    if (node && node.type === 'string') {
      const start = decodedToRaw(c.v.text, node, error.offset);
      const end = decodedToRaw(c.v.text, node, error.offset + error.length);
      c.v.add(error.message, 'error', error.code, start, Math.max(1, end - start));
    } else {
      c.v.at(path, error.message, 'error', error.code);
    }
  }
  if (!parsed.expr || !domain) return false;
  const dim = c.dim;
  // Probe corners, centre and seeded random points of the domain, where training samples will come from. Only the
  // coordinates the expression reads are drawn, so the cost follows the expression's text, not input.dim.
  const fn = compileExpression(parsed.expr);
  const used = [...parsed.variables].sort((a, b) => a - b);
  const dense = dim <= 64;
  const toPoint = (values: number[]): ArrayLike<number> => {
    const point: Record<number, number> & { length: number } = dense ? new Array<number>(dim).fill(0) : { length: dim };
    used.forEach((k, i) => (point[k] = values[i]));
    if (dense) domain.forEach(([lo, hi], k) => (point[k] = used.includes(k) ? point[k] : (lo + hi) / 2));
    return point;
  };
  const points: number[][] = [used.map((k) => (domain[k][0] + domain[k][1]) / 2)];
  if (used.length <= 6) {
    for (let mask = 0; mask < 2 ** used.length; mask++)
      points.push(used.map((k, i) => (Math.floor(mask / 2 ** i) % 2 ? domain[k][1] : domain[k][0])));
  }
  const rng = createRng(seed);
  for (let i = 0; i < 256; i++) points.push(used.map((k) => rng.uniform(domain[k][0], domain[k][1])));
  for (const values of points) {
    const point = toPoint(values);
    const value = fn(point);
    if (Number.isFinite(value)) continue;
    const where = dense ? `x=${formatPoint(point)}` : used.map((k, i) => `x${k}=${formatPoint([values[i]]).slice(1, -1)}`).join(', ');
    c.v.at(
      path,
      `target produced ${value} at ${where}: every sample on input.domain must give a finite number`,
      'error',
      'non-finite-target',
    );
    return false;
  }
  return true;
}

function checkData(c: Context, domain: [number, number][] | undefined): ResolvedSpec['data'] | undefined {
  const data = c.raw.data;
  if (!isObject(data)) return undefined;
  const K = c.outputUnits;
  const sources = (['target', 'dataset', 'csv'] as const).filter((k) => data[k] !== undefined);
  if (sources.length === 0) {
    c.v.at(
      ['data'],
      'data needs one of: target (expressions), dataset (wave, rays, spiral, moons, two-spirals) or csv',
      'error',
      'data-source',
      { key: true },
    );
    return undefined;
  }
  if (sources.length > 1) {
    c.v.at(
      ['data', sources[1]],
      `data takes exactly one of target, dataset or csv; found ${sources.map((s) => `'${s}'`).join(' and ')}`,
      'error',
      'data-source',
      { key: true },
    );
    return undefined;
  }
  const explicitTask = data.task === 'regression' || data.task === 'classification' ? data.task : undefined;
  let task: 'regression' | 'classification' = explicitTask ?? 'regression';
  let source: DataSource | undefined;
  let noise = typeof data.noise === 'number' ? data.noise : 0;
  let ok = true;
  const seed = isObject(c.raw.training) && typeof c.raw.training.seed === 'number' ? c.raw.training.seed : DEFAULTS.seed;

  if (sources[0] === 'dataset' && typeof data.dataset === 'string') {
    const dataset = DATASETS[data.dataset];
    if (!dataset) return undefined; // the schema's enum already reported it
    if (explicitTask && explicitTask !== dataset.task) {
      c.v.at(
        ['data', 'dataset'],
        `dataset '${data.dataset}' is a ${dataset.task} set but data.task is '${explicitTask}'`,
        'error',
        'data-source',
      );
      ok = false;
    }
    task = dataset.task;
    if (c.dim !== undefined && c.dim !== 2) {
      c.v.at(['data', 'dataset'], `dataset '${data.dataset}' is 2-D but input.dim is ${c.dim}`, 'error', 'dimension-mismatch');
      ok = false;
    }
    if (dataset.task === 'regression' && K !== undefined && K !== 1) {
      c.v.at(
        ['model', 'output', 'units'],
        `dataset '${data.dataset}' has one target but model.output.units is ${K}`,
        'error',
        'dimension-mismatch',
      );
      ok = false;
    }
    if (dataset.task === 'classification') {
      if (typeof data.classes === 'number' && data.classes !== dataset.classes) {
        c.v.at(
          ['data', 'classes'],
          `dataset '${data.dataset}' has ${dataset.classes} classes, not ${data.classes}`,
          'error',
          'classes-mismatch',
        );
        ok = false;
      }
      if (typeof data.noise !== 'number') noise = dataset.defaultNoise;
    }
    source = { kind: 'dataset', name: data.dataset };
  } else if (sources[0] === 'target') {
    const targets =
      typeof data.target === 'string'
        ? [data.target]
        : Array.isArray(data.target) && data.target.every((t) => typeof t === 'string')
          ? (data.target as string[])
          : undefined;
    if (!targets) return undefined;
    targets.forEach((text, i) => {
      if (!checkExpression(c, typeof data.target === 'string' ? ['data', 'target'] : ['data', 'target', i], text, domain, seed)) ok = false;
    });
    if (K !== undefined) {
      if (task === 'regression' && targets.length !== K) {
        c.v.at(
          ['data', 'target'],
          `data.target has ${plural(targets.length, 'expression')} but model.output.units is ${K} (one expression per output)`,
          'error',
          'dimension-mismatch',
        );
        ok = false;
      }
      if (task === 'classification' && targets.length !== K && !(targets.length === 1 && K === 2)) {
        c.v.at(
          ['data', 'target'],
          `for classification give one expression per class (${K}), or one expression for two classes; got ${targets.length}`,
          'error',
          'dimension-mismatch',
        );
        ok = false;
      }
    }
    source = { kind: 'expression', expressions: targets };
  } else if (sources[0] === 'csv' && isObject(data.csv)) {
    const csv = data.csv;
    const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
    if (typeof csv.path !== 'string' || !isStrings(csv.inputs) || !(typeof csv.target === 'string' || isStrings(csv.target)))
      return undefined;
    const inputs = csv.inputs;
    const targets = typeof csv.target === 'string' ? [csv.target] : csv.target;
    let file = resolve(c.specDir, csv.path);
    let readable = false;
    try {
      file = confinedPath(file, c.dataRoots, c.optIn);
      const size = checkRegularFile(file, { kind: 'csv' });
      c.csvRows = Math.min(CSV_ROW_LIMIT, Math.ceil(size / (2 * (inputs.length + targets.length))));
      readable = true;
    } catch (err) {
      const reason = err instanceof SafeReadError ? err.reason : 'unreadable';
      const message =
        reason === 'missing'
          ? `csv file not found: ${file} (paths are relative to the spec's folder)`
          : err instanceof Error
            ? err.message
            : String(err);
      c.v.at(
        ['data', 'csv', 'path'],
        message,
        'error',
        reason === 'missing' ? 'csv-missing' : reason === 'outside' ? 'csv-outside' : 'csv-file',
      );
      ok = false;
    }
    if (readable) {
      let header: string[] = [];
      try {
        const records = parseCsv(readFirstLine(file), { trim: true, relax_column_count: true }) as string[][];
        header = records[0] ?? [];
      } catch (err) {
        // csv-parse quotes the offending text: name the kind of error only.
        const code = (err as { code?: unknown }).code;
        c.v.at(
          ['data', 'csv', 'path'],
          `cannot read the header row of ${file}: ${err instanceof SafeReadError ? err.message : `not CSV (${typeof code === 'string' ? code : 'parse error'})`}`,
          'error',
          'csv-format',
        );
        ok = false;
      }
      if (ok && header.length === 0) {
        c.v.at(['data', 'csv', 'path'], `${file} is empty: it needs a header row naming the columns`, 'error', 'csv-format');
        ok = false;
      } else if (ok) {
        const quotable = quotableHeader(file, header);
        const checkColumn = (name: string, path: Path): void => {
          if (!header.includes(name)) {
            c.v.at(
              path,
              quotable
                ? `column '${name}' is not in ${csv.path}${suggestion(name, header)}; its columns are ${listColumns(header)}`
                : `column '${name}' is not in the first line of ${csv.path}, which is not a CSV header (a .csv or .tsv file whose first line names its columns)`,
              'error',
              'csv-column',
            );
            ok = false;
          }
        };
        inputs.forEach((name, i) => checkColumn(name, ['data', 'csv', 'inputs', i]));
        targets.forEach((name, i) =>
          checkColumn(name, typeof csv.target === 'string' ? ['data', 'csv', 'target'] : ['data', 'csv', 'target', i]),
        );
      }
    }
    if (c.dim !== undefined && inputs.length !== c.dim) {
      c.v.at(
        ['data', 'csv', 'inputs'],
        `csv.inputs names ${plural(inputs.length, 'column')} but input.dim is ${c.dim}`,
        'error',
        'dimension-mismatch',
      );
      ok = false;
    }
    if (task === 'regression' && K !== undefined && targets.length !== K) {
      c.v.at(
        ['data', 'csv', 'target'],
        `csv.target names ${plural(targets.length, 'column')} but model.output.units is ${K}`,
        'error',
        'dimension-mismatch',
      );
      ok = false;
    }
    if (task === 'classification' && targets.length !== 1) {
      c.v.at(['data', 'csv', 'target'], 'for classification, csv.target is one column of class ids 0..K-1', 'error', 'dimension-mismatch');
      ok = false;
    }
    source = { kind: 'csv', path: file, inputs, targets };
  }

  let classes = 0;
  if (task === 'classification' && K !== undefined) {
    const dataset = source?.kind === 'dataset' ? DATASETS[source.name] : undefined;
    classes = dataset?.task === 'classification' ? dataset.classes : typeof data.classes === 'number' ? data.classes : K;
    if (K < 2) {
      c.v.at(
        ['model', 'output', 'units'],
        'classification needs at least 2 output units (one logit per class)',
        'error',
        'classes-mismatch',
      );
      ok = false;
    } else if (classes !== K) {
      c.v.at(
        ['model', 'output', 'units'],
        `model.output.units is ${K} but the data have ${classes} classes: classification needs one output per class`,
        'error',
        'classes-mismatch',
      );
      ok = false;
    }
  } else if (task === 'regression' && data.classes !== undefined) {
    c.v.at(['data', 'classes'], 'data.classes is ignored for regression', 'warning', 'unused-setting', { key: true });
  }
  const samples = isPositiveInt(data.samples) ? data.samples : DEFAULTS.samples;
  const batch = isObject(c.raw.training) && isPositiveInt(c.raw.training.batch) ? c.raw.training.batch : DEFAULTS.batch;
  if (source?.kind !== 'csv' && batch > samples && isObject(c.raw.training) && c.raw.training.batch !== undefined) {
    c.v.at(
      ['training', 'batch'],
      `batch ${batch} is larger than data.samples ${samples}: every step will use all ${samples} samples`,
      'warning',
      'batch-size',
    );
  }
  return ok && source ? { task, source, samples, noise, classes } : undefined;
}

function checkLayers(c: Context): ResolvedSpec['layers'] | undefined {
  const model = c.raw.model;
  if (!isObject(model) || !Array.isArray(model.layers)) return undefined;
  const layers: ResolvedSpec['layers'] = [];
  let ok = true;
  model.layers.forEach((layer: unknown, i) => {
    if (!isObject(layer) || !isPositiveInt(layer.units)) {
      ok = false;
      return;
    }
    const activation = typeof layer.activation === 'string' ? layer.activation : DEFAULTS.activation;
    const exact = (EXACT_ACTIVATIONS as readonly string[]).includes(activation);
    const annealed = isAnnealable(activation) && isObject(c.raw.training) && c.raw.training.anneal !== undefined;
    if (!exact && KNOWN_ACTIVATIONS.includes(activation) && annealed) {
      c.v.at(
        ['model', 'layers', i, 'activation'],
        `'${activation}' is annealed to ReLU by training.anneal: training is approximate, the exported network is hard ReLU and can be proved`,
        'info',
        'approximate-activation',
      );
    } else if (!exact && KNOWN_ACTIVATIONS.includes(activation)) {
      c.v.at(
        ['model', 'layers', i, 'activation'],
        `POLICE is only approximate for '${activation}' (not piecewise affine): the certificate can report the residual on each region, never "proved"`,
        'warning',
        'approximate-activation',
      );
    }
    if (layer.alpha !== undefined && activation !== 'leaky_relu') {
      c.v.at(
        ['model', 'layers', i, 'alpha'],
        `alpha is ignored by '${activation}' (it is the negative slope of leaky_relu)`,
        'warning',
        'unused-setting',
        { key: true },
      );
    }
    const alpha = activation === 'leaky_relu' ? (typeof layer.alpha === 'number' ? layer.alpha : DEFAULTS.alpha) : 0;
    const resolved: ResolvedSpec['layers'][number] = { units: layer.units, activation: activation as Activation, alpha };
    // β belongs to swish/softplus (the β-VQ temperature); elsewhere it would silently do nothing.
    if (isAnnealable(activation)) {
      resolved.beta = typeof layer.beta === 'number' ? layer.beta : DEFAULTS.beta;
      if (layer.learn_beta === true) resolved.learnBeta = true;
      if (layer.learn_beta === true && annealed)
        c.v.at(['model', 'layers', i, 'learn_beta'], 'learn_beta is ignored while training.anneal drives β', 'warning', 'unused-setting', {
          key: true,
        });
      if (!annealed)
        c.v.at(
          ['model', 'layers', i, 'activation'],
          `'${activation}' stays smooth after training: add training.anneal ({"beta_start": 1, "beta_end": 1000}) to end with a hard ReLU network the certificate can prove`,
          'info',
          'anneal-hint',
        );
    } else {
      for (const key of ['beta', 'learn_beta']) {
        if (layer[key] !== undefined)
          c.v.at(
            ['model', 'layers', i, key],
            `${key} is ignored by '${activation}' (it belongs to swish and softplus)`,
            'warning',
            'unused-setting',
            { key: true },
          );
      }
    }
    layers.push(resolved);
  });
  return ok ? layers : undefined;
}

function semanticChecks(v: Validator, raw: Json, specPath: string, options: ValidateOptions): ResolvedSpec | undefined {
  const input = isObject(raw.input) ? raw.input : {};
  const model = isObject(raw.model) ? raw.model : {};
  const output = isObject(model.output) ? model.output : {};
  const c: Context = {
    v,
    raw,
    dim: isPositiveInt(input.dim) && input.dim <= MAX_INPUT_DIM ? input.dim : undefined,
    outputUnits: isPositiveInt(output.units) ? output.units : undefined,
    specDir: dirname(resolve(specPath)),
    dataRoots: options.dataRoots ?? { folders: [dirname(resolve(specPath))] },
    optIn: options.optIn ?? DEFAULT_OPT_IN,
  };

  let domain: [number, number][] | undefined;
  let domainOk = true;
  if (Array.isArray(input.domain) && c.dim !== undefined) {
    if (input.domain.length !== c.dim) {
      v.at(
        ['input', 'domain'],
        `input.domain has ${plural(input.domain.length, 'interval')} but input.dim is ${c.dim} (one [low, high] per coordinate)`,
        'error',
        'dimension-mismatch',
      );
      domainOk = false;
    }
    input.domain.forEach((interval: unknown, k) => {
      if (isNumberArray(interval) && interval.length === 2 && !(interval[0] < interval[1])) {
        v.at(
          ['input', 'domain', k],
          `input.domain[${k}] = [${interval.join(', ')}] is empty: low must be below high`,
          'error',
          'empty-domain',
        );
        domainOk = false;
      }
    });
    if (domainOk && input.domain.every((d: unknown) => isNumberArray(d) && d.length === 2)) domain = input.domain as [number, number][];
  }

  const layers = section(v, () => checkLayers(c));
  // Sizes first: a training that cannot fit is refused before anything of input.dim's size is built.
  const rawData = isObject(raw.data) ? raw.data : {};
  const declaredSamples = rawData.csv !== undefined ? 0 : isPositiveInt(rawData.samples) ? rawData.samples : DEFAULTS.samples;
  const fits = layers && c.dim !== undefined && c.outputUnits !== undefined ? checkMemory(c, layers, 0, declaredSamples, 0) : true;
  if (!fits) return undefined;
  const regions = section(v, () => checkRegions(c, domain));
  if (!domain && domainOk && c.dim !== undefined && input.domain === undefined)
    domain = defaultDomain(c.dim, regions, isObject(raw.data) ? raw.data.dataset : undefined);
  const data = section(v, () => checkData(c, domain));
  if (layers && regions && data && c.dim !== undefined && c.outputUnits !== undefined) {
    const vertices = regions.reduce((n, r) => n + r.vertices.length, 0);
    section(v, () => checkMemory(c, layers, vertices, data.source.kind === 'csv' ? (c.csvRows ?? 0) : data.samples, data.classes));
  }
  if (
    v.hasErrors() ||
    !layers ||
    !regions ||
    !data ||
    !domain ||
    c.dim === undefined ||
    c.outputUnits === undefined ||
    typeof raw.name !== 'string'
  )
    return undefined;

  const training = isObject(raw.training) ? raw.training : {};
  const police = isObject(raw.police) ? raw.police : {};
  const num = (value: unknown, fallback: number): number => (typeof value === 'number' ? value : fallback);
  return {
    name: raw.name,
    inputDim: c.dim,
    domain,
    layers,
    outputUnits: c.outputUnits,
    regions,
    data,
    training: {
      steps: num(training.steps, DEFAULTS.steps),
      batch: num(training.batch, DEFAULTS.batch),
      optimizer:
        training.optimizer === 'adam' || training.optimizer === 'sgd' || training.optimizer === 'adamw'
          ? training.optimizer
          : DEFAULTS.optimizer,
      lr: num(training.lr, DEFAULTS.lr),
      weightDecay: num(training.weight_decay, DEFAULTS.weightDecay),
      seed: num(training.seed, DEFAULTS.seed),
      snapshotEvery: num(training.snapshot_every, DEFAULTS.snapshotEvery),
      ...companionTraining(v, training, layers, c.dim),
    },
    police: {
      enabled: typeof police.enabled === 'boolean' ? police.enabled : true,
      rule: SHIFT_RULES.find((rule) => rule === police.rule) ?? DEFAULTS.rule,
      margin: num(police.margin, DEFAULTS.margin),
    },
    baseDir: c.specDir,
  };
}

/** training.anneal and training.orthogonality (issue 5), with a warning when the anneal has nothing to drive. */
function companionTraining(
  v: Validator,
  training: Json,
  layers: ResolvedSpec['layers'],
  inputDim: number,
): Pick<ResolvedSpec['training'], 'anneal' | 'orthogonality'> {
  const out: Pick<ResolvedSpec['training'], 'anneal' | 'orthogonality'> = {};
  if (isObject(training.anneal)) {
    const start = typeof training.anneal.beta_start === 'number' ? training.anneal.beta_start : DEFAULTS.annealBetaStart;
    const end = typeof training.anneal.beta_end === 'number' ? training.anneal.beta_end : DEFAULTS.annealBetaEnd;
    out.anneal = { betaStart: start, betaEnd: end };
    if (!layers.some((l) => isAnnealable(l.activation))) {
      v.at(
        ['training', 'anneal'],
        'training.anneal drives β of swish/softplus layers, and this model has none: it is ignored',
        'warning',
        'unused-setting',
        { key: true },
      );
    } else if (end < 100) {
      v.at(
        ['training', 'anneal', 'beta_end'],
        `beta_end ${end} is small: the network is exported as hard ReLU, which then differs visibly from the swish it was trained with (use ≥ 100)`,
        'warning',
        'anneal-too-soft',
      );
    }
  }
  const ortho = training.orthogonality;
  if (isObject(ortho) && typeof ortho.penalty === 'number') out.orthogonality = { kind: 'penalty', lambda: ortho.penalty };
  else if (isObject(ortho) && ortho.parametrization === 'exact') {
    out.orthogonality = { kind: 'exact' };
    // More filters than inputs cannot all be orthogonal: say what the parametrisation does there instead.
    const wide = layers
      .map((l, i) => ({ i, units: l.units, inputs: i === 0 ? inputDim : layers[i - 1].units }))
      .filter((l) => l.units > l.inputs);
    if (wide.length) {
      v.at(
        ['training', 'orthogonality', 'parametrization'],
        `${wide.map((l) => `layer ${l.i + 1} (${l.units} units on ${l.inputs} inputs)`).join(', ')}: more filters than inputs cannot all be orthogonal; their columns are made orthonormal instead`,
        'info',
        'orthogonality-wide',
        { key: true },
      );
    }
  }
  return out;
}

/** Runs one group of checks; an unexpected exception becomes a problem instead of hiding the others. */
function section<T>(v: Validator, run: () => T): T | undefined {
  try {
    return run();
  } catch (err) {
    v.add(`internal error while checking the spec: ${err instanceof Error ? err.message : String(err)}`, 'error', 'internal', 0, 0);
    return undefined;
  }
}

/**
 * Validates a spec's text: syntax, schema, then semantics, each problem with the range of the offending
 * JSON node. `specPath` locates relative files (csv). Never throws.
 */
export function validateSpecText(rawText: string, specPath: string, options: ValidateOptions = {}): ValidationResult {
  // A byte-order mark becomes a space, so it parses and every offset still matches the caller's text.
  const text = rawText.charCodeAt(0) === 0xfeff ? ` ${rawText.slice(1)}` : rawText;
  const syntaxErrors: ParseError[] = [];
  let root: JsonNode | undefined;
  try {
    root = parseTree(text, syntaxErrors, { allowTrailingComma: false, disallowComments: false, allowEmptyContent: true });
  } catch (err) {
    const v = new Validator(text, undefined);
    v.add(`cannot parse the spec: ${err instanceof Error ? err.message : String(err)}`, 'error', 'internal', 0, 0);
    return { problems: v.problems };
  }
  const v = new Validator(text, root);
  try {
    for (const error of syntaxErrors) {
      const name = printParseErrorCode(error.error);
      v.add(SYNTAX_MESSAGES[name] ?? name, 'error', 'syntax', error.offset, Math.max(1, error.length));
    }
    if (syntaxErrors.length > 0) return { problems: v.problems };
    if (!root) {
      v.add('the spec is empty: expected an object with name, input, model, regions and data', 'error', 'schema', 0, 0);
      return { problems: v.problems };
    }
    const value = getNodeValue(root) as unknown;
    if (!isObject(value)) {
      v.add('a spec is a JSON object with name, input, model, regions and data', 'error', 'schema', root.offset, root.length);
      return { problems: v.problems };
    }
    duplicateKeys(v, root);
    schemaProblems(v, value);
    const spec = section(v, () => semanticChecks(v, value, specPath, options));
    // Every refusal names its place: a spec that did not resolve without saying why still gets one located error.
    if (!spec && !v.hasErrors())
      v.add('the spec could not be resolved: a value above has the wrong shape', 'error', 'schema', root.offset, Math.min(root.length, 1));
    // In file order, as a reader scans the spec (sort is stable for problems on the same node).
    const problems = v.problems.slice().sort((a, b) => a.offset - b.offset);
    return v.hasErrors() || !spec ? { problems } : { spec, problems };
  } catch (err) {
    v.add(`internal error while checking the spec: ${err instanceof Error ? err.message : String(err)}`, 'error', 'internal', 0, 0);
    return { problems: v.problems };
  }
}
