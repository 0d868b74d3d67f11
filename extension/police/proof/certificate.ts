// The certificate: Theorem 1 re-checked in float64 with rigorous rounding bounds, the affine map per region, and corroboration.
import { createHash } from 'node:crypto';
import type { Certificate, CertificateCheck, RegionCertificate } from './certificate-types';
import { affineFit, maxAbs, maxAbsDiff } from '../geometry/linalg';
import type { FoldedNetwork, NetworkLayer } from '../network/network';
import { activate, forward, unitBeta } from '../network/network';
import { ACTIVATIONS, isPiecewiseAffine } from '../spec/activations';
import { affineMapForPattern, bends } from './patterns';
import type { ActivationPattern } from './patterns';
import { mulberry32 } from '../common/random';
import { regionsOverlap } from '../geometry/regions';
import type { Matrix, ResolvedRegion, Vector } from '../spec/types';

export interface CertifyOptions {
  /** Random convex combinations checked per region (default 256). */
  samples?: number;
  seed?: number;
  /** Spec name written into the certificate. */
  spec?: string;
  /** ISO time written into the certificate (default: now); fixed in tests for reproducible output. */
  createdAt?: string;
  /** Largest accepted max|A − A*| (and |b − b*|) for jacobian / affine_map constraints, relative to 1 + max|A*| (default 1e-4). */
  constraintTolerance?: number;
}

/** Unit roundoff of float64. */
const UNIT_ROUNDOFF = 2 ** -53;
/** γ_n = n·u / (1 − n·u): the relative error bound of an n-term float64 dot product. */
const gamma = (n: number): number => (n * UNIT_ROUNDOFF) / (1 - n * UNIT_ROUNDOFF);
/** Inflation of a computed bound to cover the rounding of the bound's own float64 arithmetic. */
const BOUND_SAFETY = 1 + 1e-6;
/** Above this many flops the least-squares fit on [V 1] gives way to the map fixed by the proved pattern. */
const LEAST_SQUARES_FLOP_LIMIT = 4e8;

/** sha256 of a canonical JSON of the layers and the skip (fixed key order, shortest round-trip numbers). */
export function weightsSha256(network: FoldedNetwork): string {
  const canonical = {
    input_dim: network.input_dim,
    output_dim: network.output_dim,
    layers: network.layers.map((layer) => ({
      activation: layer.activation,
      alpha: layer.activation === 'leaky_relu' ? (layer.alpha ?? 0) : null,
      beta: layer.beta ?? null,
      weights: layer.weights,
      bias: layer.bias,
    })),
    skip: network.skip ? { weights: network.skip.weights, bias: network.skip.bias } : null,
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

interface UnitStats {
  /** min over vertices of z − bound: the unit is provably on the closed positive side when ≥ 0. */
  lowest: Float64Array;
  /** max over vertices of z + bound: provably on the closed negative side when ≤ 0. */
  highest: Float64Array;
  minZ: Float64Array;
  maxZ: Float64Array;
  /** min of z + bound and max of z − bound: with both sides of 0, rounding alone could explain the disagreement. */
  minUpper: Float64Array;
  maxLower: Float64Array;
  positives: Int32Array;
  maxBound: number;
}

interface VertexPass {
  outputs: Matrix;
  stats: UnitStats[];
}

/**
 * Every vertex through the network in float64 with a running forward error bound per coordinate:
 * |Δz| ≤ |W|·|Δh| + γ_{n+1}(|W||h| + |b|), then |Δσ(z)| ≤ Lip(σ)·|Δz| (+ u|αz| for leaky-ReLU's product).
 */
function vertexPass(network: FoldedNetwork, vertices: Matrix): VertexPass {
  const stats: UnitStats[] = network.layers.map((layer) => {
    const k = layer.bias.length;
    return {
      lowest: new Float64Array(k).fill(Infinity),
      highest: new Float64Array(k).fill(-Infinity),
      minZ: new Float64Array(k).fill(Infinity),
      maxZ: new Float64Array(k).fill(-Infinity),
      minUpper: new Float64Array(k).fill(Infinity),
      maxLower: new Float64Array(k).fill(-Infinity),
      positives: new Int32Array(k),
      maxBound: 0,
    };
  });
  const outputs: Matrix = [];
  for (const vertex of vertices) {
    let h: Float64Array = Float64Array.from(vertex);
    let err: Float64Array = new Float64Array(h.length);
    network.layers.forEach((layer, l) => {
      const [z, zErr] = boundedAffine(layer.weights, layer.bias, h, err);
      const s = stats[l];
      for (let i = 0; i < z.length; i++) {
        s.lowest[i] = Math.min(s.lowest[i], z[i] - zErr[i]);
        s.highest[i] = Math.max(s.highest[i], z[i] + zErr[i]);
        s.minZ[i] = Math.min(s.minZ[i], z[i]);
        s.maxZ[i] = Math.max(s.maxZ[i], z[i]);
        s.minUpper[i] = Math.min(s.minUpper[i], z[i] + zErr[i]);
        s.maxLower[i] = Math.max(s.maxLower[i], z[i] - zErr[i]);
        if (z[i] >= 0) s.positives[i]++;
        s.maxBound = Math.max(s.maxBound, zErr[i]);
      }
      [h, err] = boundedActivation(layer, z, zErr);
    });
    if (network.skip) {
      const [s] = boundedAffine(network.skip.weights, network.skip.bias, Float64Array.from(vertex), new Float64Array(vertex.length));
      for (let i = 0; i < h.length; i++) h[i] += s[i];
    }
    outputs.push(Array.from(h));
  }
  return { outputs, stats };
}

function boundedAffine(weights: Matrix, bias: Vector, h: Float64Array, err: Float64Array): [Float64Array, Float64Array] {
  const z = new Float64Array(weights.length);
  const zErr = new Float64Array(weights.length);
  const exactInputs = err.every((e) => e === 0);
  for (let i = 0; i < weights.length; i++) {
    const row = weights[i];
    let sum = bias[i];
    let magnitude = Math.abs(bias[i]);
    let propagated = 0;
    if (exactInputs) {
      for (let j = 0; j < row.length; j++) {
        const p = row[j] * h[j];
        sum += p;
        magnitude += Math.abs(p);
      }
    } else {
      for (let j = 0; j < row.length; j++) {
        const w = row[j];
        sum += w * h[j];
        magnitude += Math.abs(w * h[j]);
        propagated += Math.abs(w) * err[j];
      }
    }
    z[i] = sum;
    zErr[i] = (propagated + gamma(row.length + 1) * magnitude) * BOUND_SAFETY;
    // Near the hyperplane, exact inputs and exact operations (checked error-free) make the value exact: bound 0.
    if (Math.abs(sum) <= zErr[i] && propagated === 0 && evaluatesExactly(row, bias[i], h)) zErr[i] = 0;
  }
  return [z, zErr];
}

/** Dekker's split for the error-free product (no FMA in JavaScript). */
function split(a: number): [number, number] {
  const c = 134217729 * a;
  const hi = c - (c - a);
  return [hi, a - hi];
}

function productError(a: number, b: number, p: number): number {
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

function sumError(a: number, b: number, s: number): number {
  const bb = s - a;
  return a - (s - bb) + (b - bb);
}

/** Whether bias + Σ w_j h_j, accumulated in the same order as boundedAffine, commits no rounding error at all. */
function evaluatesExactly(row: Vector, bias: number, h: Float64Array): boolean {
  let sum = bias;
  for (let j = 0; j < row.length; j++) {
    const p = row[j] * h[j];
    if (!Number.isFinite(p) || productError(row[j], h[j], p) !== 0) return false;
    const next = sum + p;
    if (sumError(sum, p, next) !== 0) return false;
    sum = next;
  }
  return true;
}

function boundedActivation(layer: NetworkLayer, z: Float64Array, zErr: Float64Array): [Float64Array, Float64Array] {
  const h = new Float64Array(z.length);
  const err = new Float64Array(z.length);
  const alpha = layer.alpha ?? 0;
  const definition = ACTIVATIONS[layer.activation];
  if (!definition.piecewiseAffine) {
    // Smooth activations: the region is only approximately affine, so no bound is needed past this point.
    for (let i = 0; i < z.length; i++) h[i] = activate(z[i], layer.activation, alpha, unitBeta(layer, i));
    return [h, err.fill(Infinity)];
  }
  const lipschitz = Math.max(Math.abs(definition.slope(1, alpha)), Math.abs(definition.slope(0, alpha)));
  for (let i = 0; i < z.length; i++) {
    const slope = definition.slope(z[i] > 0 ? 1 : 0, alpha);
    h[i] = slope * z[i];
    const productExact = productError(slope, z[i], h[i]) === 0;
    err[i] =
      lipschitz === 1 && productExact
        ? zErr[i]
        : (lipschitz * zErr[i] + (productExact ? 0 : UNIT_ROUNDOFF * Math.abs(h[i]))) * BOUND_SAFETY;
  }
  return [h, err];
}

interface PatternVerdict {
  consistent: boolean;
  firstViolation?: { layer: number; unit: number; positives: number; negatives: number; undecided: boolean };
  minMargin: number;
  maxBound: number;
  /** The shared pattern (majority side where a unit is inconsistent). */
  pattern: ActivationPattern;
  units: number;
}

/**
 * A unit is consistent when every vertex is provably (value minus its bound) on one CLOSED side: z − e ≥ 0
 * for all, or z + e ≤ 0 for all. A vertex at exactly 0 with a zero bound therefore counts for either side,
 * which is sound because both pieces of relu/leaky-ReLU/abs agree at 0.
 */
function judgePatterns(network: FoldedNetwork, stats: UnitStats[], vertexCount: number): PatternVerdict {
  let minMargin = Infinity;
  let maxBound = 0;
  let units = 0;
  let firstViolation: PatternVerdict['firstViolation'];
  const pattern: ActivationPattern = network.layers.map((layer, l) => {
    if (!bends(layer)) return [];
    const s = stats[l];
    maxBound = Math.max(maxBound, s.maxBound);
    return layer.bias.map((_, i) => {
      units++;
      const positive = s.lowest[i] >= 0;
      const negative = s.highest[i] <= 0;
      if (positive || negative) {
        minMargin = Math.min(minMargin, positive ? s.minZ[i] : -s.maxZ[i]);
        return positive ? 1 : 0;
      }
      if (!firstViolation) {
        const positives = s.positives[i];
        const negatives = vertexCount - positives;
        // Undecided: every vertex could still be on one side; some vertex lies within its rounding bound of the hyperplane.
        const undecided = s.minUpper[i] >= 0 || s.maxLower[i] <= 0;
        firstViolation = { layer: l, unit: i, positives, negatives, undecided };
      }
      return 2 * s.positives[i] >= vertexCount ? 1 : 0;
    });
  });
  return {
    consistent: !firstViolation,
    firstViolation,
    minMargin: minMargin === Infinity ? 0 : minMargin,
    maxBound,
    pattern,
    units,
  };
}

/** Seeded convex weights: half Dirichlet(1,…,1) over all vertices, half over a random face of 2…D+1 vertices (reaches edges). */
function convexWeights(random: () => number, count: number, dim: number, sample: number): Float64Array {
  const weights = new Float64Array(count);
  if (sample % 2 === 0 || count <= 2) {
    for (let i = 0; i < count; i++) weights[i] = -Math.log(1 - random());
  } else {
    const size = 2 + Math.floor(random() * Math.max(1, Math.min(count, dim + 1) - 1));
    for (let t = 0; t < size; t++) weights[Math.floor(random() * count)] += -Math.log(1 - random());
  }
  let total = 0;
  for (let i = 0; i < count; i++) total += weights[i];
  if (total === 0) weights[0] = total = 1;
  for (let i = 0; i < count; i++) weights[i] /= total;
  return weights;
}

function fmt(value: number): string {
  return value === 0 ? '0' : Math.abs(value) >= 1e-3 && Math.abs(value) < 1e4 ? value.toPrecision(4) : value.toExponential(2);
}

function dimensionProblem(network: FoldedNetwork, region: ResolvedRegion): string | undefined {
  if (region.vertices.length === 0) return `region '${region.name}' has no vertices`;
  const bad = region.vertices.findIndex((v) => v.length !== network.input_dim || v.some((x) => !Number.isFinite(x)));
  if (bad >= 0) {
    return `region '${region.name}' vertex ${bad} has ${region.vertices[bad].length} finite coordinates expected ${network.input_dim}`;
  }
  const c = region.constraint;
  if (c.kind !== 'affine') {
    const rowsOk = c.A.length === network.output_dim && c.A.every((r) => r.length === network.input_dim);
    const bOk = c.kind !== 'affine_map' || c.b.length === network.output_dim;
    if (!rowsOk || !bOk) {
      return `region '${region.name}' ${c.kind} constraint must be ${network.output_dim}×${network.input_dim} (b of length ${network.output_dim})`;
    }
  }
  return undefined;
}

function certifyRegion(
  network: FoldedNetwork,
  region: ResolvedRegion,
  options: Required<Pick<CertifyOptions, 'samples' | 'seed' | 'constraintTolerance'>>,
  index: number,
): RegionCertificate {
  const vertices = region.vertices;
  const problem = dimensionProblem(network, region);
  if (problem) {
    return {
      name: region.name,
      status: 'not-proved',
      vertexCount: vertices.length,
      minMargin: 0,
      affineMap: { A: [], b: [] },
      maxResidual: 0,
      samplesChecked: 0,
      checks: [{ name: 'dimensions', passed: false, detail: problem }],
    };
  }
  const exact = network.layers.every((layer) => isPiecewiseAffine(layer.activation));
  const checks: CertificateCheck[] = [];
  const pass = vertexPass(network, vertices);
  const verdict = judgePatterns(network, pass.stats, vertices.length);
  if (exact) {
    const v = verdict.firstViolation;
    checks.push({
      name: 'vertex-sign-patterns',
      passed: verdict.consistent,
      detail: verdict.consistent
        ? `${verdict.units} units share one closed side at all ${vertices.length} vertices; smallest margin ${fmt(verdict.minMargin)} against a float64 error bound of at most ${fmt(verdict.maxBound)}`
        : v!.undecided
          ? `layer ${v!.layer} unit ${v!.unit}: a vertex lies within its float64 error bound of the hyperplane, so its side cannot be proved`
          : `layer ${v!.layer} unit ${v!.unit}: the hyperplane crosses the region (${v!.positives} vertices on the positive side, ${v!.negatives} on the negative)`,
    });
  } else {
    const smooth = network.layers.filter((l) => !isPiecewiseAffine(l.activation)).map((l) => l.activation);
    checks.push({
      name: 'vertex-sign-patterns',
      passed: false,
      detail: `activation ${[...new Set(smooth)].join(', ')} is not piecewise affine: the region is approximately affine at best`,
    });
  }

  // The affine map from the vertex outputs (least squares on [V 1]); for huge vertex sets, the map the proved pattern fixes.
  const dim = network.input_dim;
  const fitCost = vertices.length * (dim + 1) * (dim + 1);
  let affineMap: { A: Matrix; b: Vector };
  let mapSource: string;
  if (fitCost <= LEAST_SQUARES_FLOP_LIMIT || !exact) {
    const fit = affineFit(vertices, pass.outputs);
    affineMap = { A: fit.A, b: fit.b };
    mapSource = fit.rank < dim + 1 ? `least squares on [V 1] (rank ${fit.rank} < ${dim + 1}: minimum-norm map)` : 'least squares on [V 1]';
  } else {
    affineMap = affineMapForPattern(network, verdict.pattern);
    mapSource = 'the shared activation pattern';
  }
  const mapAt = (x: ArrayLike<number>): Vector => affineMap.A.map((row, k) => row.reduce((s, a, j) => s + a * x[j], affineMap.b[k]));

  // Corroboration: f at random convex combinations against the same combination of the vertex outputs.
  const random = mulberry32((options.seed * 0x9e3779b1 + index * 0x85ebca6b) >>> 0);
  const outputScale = 1 + maxAbs(pass.outputs);
  let maxResidual = 0;
  let mapResidual = 0;
  for (const [i, v] of vertices.entries()) mapResidual = Math.max(mapResidual, maxAbsDiff(mapAt(v), pass.outputs[i]));
  for (let sample = 0; sample < options.samples; sample++) {
    const alpha = convexWeights(random, vertices.length, dim, sample);
    const x = new Array<number>(dim).fill(0);
    const combined = new Array<number>(network.output_dim).fill(0);
    for (let i = 0; i < vertices.length; i++) {
      if (alpha[i] === 0) continue;
      for (let d = 0; d < dim; d++) x[d] += alpha[i] * vertices[i][d];
      for (let k = 0; k < combined.length; k++) combined[k] += alpha[i] * pass.outputs[i][k];
    }
    const fx = forward(network, x);
    maxResidual = Math.max(maxResidual, maxAbsDiff(fx, combined));
    mapResidual = Math.max(mapResidual, maxAbsDiff(fx, mapAt(x)));
  }
  // Float64 noise of an affine network is ~1e-15 relative; anything near 1e-8 of the output scale is a real bend (or a bug).
  const residualTolerance = 1e-8 * outputScale;
  checks.push({
    name: 'convex-combinations',
    passed: maxResidual <= residualTolerance,
    detail: `max |f(Σαᵢvᵢ) − Σαᵢf(vᵢ)| = ${fmt(maxResidual)} over ${options.samples} random convex combinations (tolerance ${fmt(residualTolerance)})`,
  });
  checks.push({
    name: 'affine-map',
    passed: mapResidual <= residualTolerance,
    detail: `(A, b) from ${mapSource}; max |A x + b − f(x)| = ${fmt(mapResidual)} at the vertices and samples`,
  });

  let constraintResidual: number | undefined;
  const c = region.constraint;
  if (c.kind !== 'affine') {
    const target = c.A;
    constraintResidual = maxAbsDiff(affineMap.A, target);
    if (c.kind === 'affine_map') constraintResidual = Math.max(constraintResidual, maxAbsDiff(affineMap.b, c.b));
    const tolerance = options.constraintTolerance * (1 + maxAbs(target) + (c.kind === 'affine_map' ? maxAbs(c.b) : 0));
    checks.push({
      name: 'constraint-map',
      passed: constraintResidual <= tolerance,
      detail: `${c.kind === 'jacobian' ? 'max |A − A*|' : 'max(|A − A*|, |b − b*|)'} = ${fmt(constraintResidual)} (tolerance ${fmt(tolerance)})`,
    });
  }

  // A failed cross-check beside consistent patterns means the proof's premises are wrong somewhere: never claim it.
  const checksPass = checks.every((check) => check.passed);
  const status: RegionCertificate['status'] = !exact ? 'approximate' : verdict.consistent && checksPass ? 'proved' : 'not-proved';
  const result: RegionCertificate = {
    name: region.name,
    status,
    vertexCount: vertices.length,
    minMargin: verdict.minMargin,
    affineMap,
    maxResidual,
    samplesChecked: options.samples,
    checks,
    maxErrorBound: verdict.maxBound,
  };
  if (verdict.firstViolation) result.firstViolation = { layer: verdict.firstViolation.layer, unit: verdict.firstViolation.unit };
  if (constraintResidual !== undefined) result.constraintResidual = constraintResidual;
  return result;
}

/**
 * Certifies a folded network on every region. Status 'proved' means: every vertex, pushed through the
 * stored weights with a rigorous float64 error bound, lies on one closed side of every unit's hyperplane
 * at every layer (Theorem 1), and a jacobian / affine_map constraint holds within tolerance.
 */
export function certify(network: FoldedNetwork, regions: ResolvedRegion[], options: CertifyOptions = {}): Certificate {
  const settings = {
    samples: Math.max(0, Math.floor(options.samples ?? 256)),
    seed: options.seed ?? 0,
    constraintTolerance: options.constraintTolerance ?? 1e-4,
  };
  const certificates = regions.map((region, i) => certifyRegion(network, region, settings, i));
  const overlaps: [string, string][] = [];
  for (let i = 0; i < regions.length; i++) {
    for (let j = i + 1; j < regions.length; j++) {
      const a = regions[i].vertices;
      const b = regions[j].vertices;
      if (a.length && b.length && a[0].length === b[0].length && regionsOverlap(a, b) === 'overlap') {
        overlaps.push([regions[i].name, regions[j].name]);
      }
    }
  }
  return {
    format: 'police-certificate/1',
    spec: options.spec ?? '',
    createdAt: options.createdAt ?? new Date().toISOString(),
    weightsSha256: weightsSha256(network),
    proved: certificates.length > 0 && certificates.every((r) => r.status === 'proved'),
    regions: certificates,
    overlaps,
  };
}
