// Layer-wise injectivity of a folded network (Puthawala et al., "Globally injective ReLU networks").
import type { FoldedNetwork, NetworkLayer } from '../network/network';
import type { Matrix, Vector } from '../spec/types';
import { dot, leastSquares, norm, rank as matrixRank } from '../geometry/linalg';
import { createRng } from '../common/random';
import { relativeMinPivot, rowGram, smallestSingular } from './dense';

/**
 * 'injective' and 'not-injective' are proofs; 'no-counter-example' means probing found none (never a proof);
 * 'undecided' means this analysis has no method for the case.
 */
export type InjectivityVerdict = 'injective' | 'not-injective' | 'no-counter-example' | 'undecided';

export type InjectivityMethod =
  | 'row-count' // fewer than 2n counting rows (corollary of the DSS theorem)
  | 'rank' // the (counting) rows do not span ℝⁿ: a kernel direction collides
  | 'exact-wedges' // every wedge of the central arrangement enumerated (n ≤ 3)
  | 'probing' // random and targeted wedges checked
  | 'column-rank' // one-to-one activation: injective iff W has full column rank
  | 'abs-hyperplanes' // abs: every hyperplane spanned by n−1 rows checked
  | 'none';

export interface InverseLipschitzBound {
  /** ‖g(x0) − g(x1)‖ ≥ bound · ‖x0 − x1‖. */
  bound: number;
  /** The smallest singular value the bound is built from. */
  minSingularValue: number;
  formula: string;
  /** 'layer': holds for the layer as it is; 'bias-free-layer': holds for ReLU(W|_{b≥0} x), the lemma's equivalent layer. */
  appliesTo: 'layer' | 'bias-free-layer';
}

export interface LayerInjectivity {
  /** 0-based index into network.layers. */
  layer: number;
  activation: string;
  /** Input dimension n and rows m of W (m×n). */
  inputDim: number;
  rows: number;
  /** ReLU: rows with b_i ≥ 0 and w_i ≠ 0 (the only ones that matter, by the slides' lemma). */
  countingRows?: number;
  verdict: InjectivityVerdict;
  method: InjectivityMethod;
  /** One sentence a user can read. */
  reason: string;
  wedgesChecked?: number;
  probes?: number;
  /** Where injectivity fails: a direction whose wedge's active rows do not span, or two colliding points. */
  counterExample?: { direction?: Vector; kernel?: Vector; points?: [Vector, Vector] };
  inverseLipschitz?: InverseLipschitzBound;
}

export interface InjectivityReport {
  layers: LayerInjectivity[];
  network: { verdict: InjectivityVerdict; reason: string };
}

export interface InjectivityOptions {
  /** Random probes for n above exactMaxDim (targeted probes, one per row, come on top). */
  probes?: number;
  seed?: number;
  /** Largest input dimension decided exactly by enumerating wedges (at most 3). */
  exactMaxDim?: number;
}

const DEFAULT_PROBES = 2000;
/** Relative size below which a singular value counts as zero (σ comes from a Gram matrix: its floor is about √ε ≈ 1.5e-8). */
export const RANK_TOL = 1e-6;
/** Flop budget per layer for probing, so a wide layer cannot stall the CLI. */
const PROBE_FLOP_BUDGET = 4e8;
/** Most counting rows decided exactly in ℝ³ (about m² cells of m rows each). */
const EXACT_MAX_ROWS_3D = 192;
/** Largest n whose singular values are computed by Jacobi (bounds, kernels). */
const SVD_MAX_DIM = 128;

export function analyzeInjectivity(network: FoldedNetwork, options: InjectivityOptions = {}): InjectivityReport {
  const layers = network.layers.map((layer, index) => layerInjectivity(layer, index, options));
  return { layers, network: networkVerdict(network, layers) };
}

export function layerInjectivity(layer: NetworkLayer, index: number, options: InjectivityOptions = {}): LayerInjectivity {
  const w = layer.weights;
  const n = w.length === 0 ? 0 : w[0].length;
  const base = { layer: index, activation: layer.activation, inputDim: n, rows: w.length };
  switch (layer.activation) {
    case 'relu':
      return { ...base, ...reluInjectivity(w, layer.bias, options) };
    case 'leaky_relu': {
      const alpha = layer.alpha ?? 0;
      if (alpha === 0) return { ...base, ...reluInjectivity(w, layer.bias, options) };
      if (alpha < 0) {
        return {
          ...base,
          verdict: 'undecided',
          method: 'none',
          reason: `leaky_relu with a negative slope (alpha = ${alpha}) is not one-to-one; not analysed.`,
        };
      }
      return { ...base, ...columnRankInjectivity(w, Math.min(1, alpha), `Leaky-ReLU (alpha = ${alpha}) is one-to-one`) };
    }
    case 'linear':
      return { ...base, ...columnRankInjectivity(w, 1, 'The activation is linear') };
    case 'sigmoid':
    case 'tanh':
    case 'softplus':
      // Strictly increasing, so injective iff W is; their slope has no positive lower bound, hence no bound.
      return { ...base, ...columnRankInjectivity(w, 0, `The activation ${layer.activation} is one-to-one`) };
    case 'abs':
      return { ...base, ...absInjectivity(w, layer.bias) };
    case 'swish':
      return {
        ...base,
        verdict: 'undecided',
        method: 'none',
        reason:
          'swish is not one-to-one (it dips below 0 for negative inputs); injectivity is not analysed for it. Anneal β → ∞ to get a ReLU layer that can be analysed.',
      };
  }
}

type LayerResult = Omit<LayerInjectivity, 'layer' | 'activation' | 'inputDim' | 'rows'>;

/** x ↦ ReLU(Wx + b), decided through W|_{b≥0} (the slides' lemma) and the directed-spanning-set theorem. */
export function reluInjectivity(w: Matrix, b: Vector, options: InjectivityOptions = {}): LayerResult {
  const m = w.length;
  const n = m === 0 ? 0 : w[0].length;
  const scale = w.reduce((max, row) => Math.max(max, norm(row)), 0);
  const counting = w.filter((row, i) => b[i] >= 0 && norm(row) > 0);
  const ignored = m - counting.length;
  const ignoredNote = ignored > 0 ? ` (${ignored} of ${m} rows have b < 0 or are zero and do not count)` : '';
  if (n === 0) return { countingRows: counting.length, verdict: 'injective', method: 'rank', reason: 'The layer has no inputs.' };
  if (counting.length < 2 * n) {
    return {
      countingRows: counting.length,
      verdict: 'not-injective',
      method: 'row-count',
      reason: `Only ${counting.length} counting rows for n = ${n} inputs${ignoredNote}; ReLU(Wx + b) needs at least 2n = ${2 * n} to be injective.`,
    };
  }
  const full = n <= SVD_MAX_DIM ? smallestSingular(counting, n) : undefined;
  const rankDeficient = full ? full.sigma <= RANK_TOL * scale : relativeMinPivot(rowGram(counting, n)) <= RANK_TOL * RANK_TOL;
  if (rankDeficient) {
    return {
      countingRows: counting.length,
      verdict: 'not-injective',
      method: 'rank',
      reason: `The counting rows span only a proper subspace of ℝ^${n}${ignoredNote}, so by the slides' lemma and the directed-spanning-set theorem ReLU(Wx + b) is not injective.`,
      counterExample: full ? { kernel: full.direction } : undefined,
    };
  }
  const biasFree = b.every((v) => v === 0);
  const exactMaxDim = Math.min(options.exactMaxDim ?? 3, 3);
  // In ℝ³ the arrangement has about m² cells, each checked in O(m): beyond EXACT_MAX_ROWS_3D rows probing is used.
  if (n <= exactMaxDim && (n < 3 || counting.length <= EXACT_MAX_ROWS_3D)) {
    const cells = centralCells(counting, n);
    let minSigma = Infinity;
    for (const { sign, direction: witness } of cells) {
      const active = counting.filter((_, i) => sign[i] > 0);
      const { sigma: computed, direction } = smallestSingular(active, n);
      const sigma = active.length < n ? 0 : computed;
      if (sigma <= RANK_TOL * scale) {
        return {
          countingRows: counting.length,
          verdict: 'not-injective',
          method: 'exact-wedges',
          wedgesChecked: cells.length,
          reason: `In the wedge around direction ${formatVector(witness)} only ${active.length} counting rows are active and they do not span ℝ^${n}${ignoredNote} (directed-spanning-set theorem).`,
          counterExample: { direction: witness, kernel: direction },
        };
      }
      minSigma = Math.min(minSigma, sigma);
    }
    const bound = minSigma / Math.sqrt(2 * m);
    return {
      countingRows: counting.length,
      verdict: 'injective',
      method: 'exact-wedges',
      wedgesChecked: cells.length,
      reason: `All ${cells.length} wedges of the arrangement were enumerated; in each one the active counting rows span ℝ^${n}${ignoredNote}.`,
      inverseLipschitz: {
        bound,
        minSingularValue: minSigma,
        formula: `min over wedges of σ_min(W|_S) / √(2m) = ${minSigma.toPrecision(4)} / √${2 * m}`,
        appliesTo: biasFree ? 'layer' : 'bias-free-layer',
      },
    };
  }
  return { countingRows: counting.length, ...probeRelu(counting, n, ignoredNote, options) };
}

/** Random wedges plus, for each row w, the wedge around −w (where that row and its neighbours switch off). */
function probeRelu(counting: Matrix, n: number, ignoredNote: string, options: InjectivityOptions): LayerResult {
  const rng = createRng(options.seed ?? 0);
  const requested = options.probes ?? DEFAULT_PROBES;
  const m = counting.length;
  const costPerProbe = m * n + m * n * n * 0.5 + (n * n * n) / 3;
  const probeCount = Math.max(1, Math.min(requested + m, Math.floor(PROBE_FLOP_BUDGET / costPerProbe)));
  for (let p = 0; p < probeCount; p++) {
    const x = new Array<number>(n);
    const target = p < m ? counting[p] : undefined;
    for (let j = 0; j < n; j++) x[j] = (target ? -target[j] / norm(target) : 0) + (target ? 0.05 : 1) * rng.normal();
    const active = counting.filter((row) => dot(row, x) > 0);
    if (active.length < n || relativeMinPivot(rowGram(active, n)) <= RANK_TOL * RANK_TOL) {
      const kernel = n <= SVD_MAX_DIM ? smallestSingular(active, n).direction : undefined;
      return {
        verdict: 'not-injective',
        method: 'probing',
        probes: p + 1,
        reason: `Probe ${p + 1} found a wedge whose ${active.length} active counting rows do not span ℝ^${n}${ignoredNote} (directed-spanning-set theorem).`,
        counterExample: { direction: x, kernel },
      };
    }
  }
  return {
    verdict: 'no-counter-example',
    method: 'probing',
    probes: probeCount,
    reason: `No counter-example found in ${probeCount} probes (${n > 3 ? `n = ${n} is above the exact limit of 3` : `${m} counting rows in ℝ³ are above the exact limit of ${EXACT_MAX_ROWS_3D}`}; this is evidence, not a proof)${ignoredNote}.`,
  };
}

export interface ArrangementCell {
  /** ±1 per row: the side of ⟨w_i, x⟩ = 0 the open cell lies on (0 only for zero rows). */
  sign: Int8Array;
  /** A unit direction inside (for n = 3, next to a vertex of) the cell, for messages. */
  direction: Vector;
}

/** Every open cell of the central arrangement {x : ⟨w_i, x⟩ = 0} of nonzero rows, n ≤ 3. */
export function centralCells(rows: Matrix, n: number): ArrangementCell[] {
  const cells = new Map<string, ArrangementCell>();
  const add = (signs: number[], direction: Vector) => {
    const sign = Int8Array.from(signs);
    // One bit per row, 16 rows per character: compact keys keep m² cells cheap to deduplicate.
    let key = '';
    for (let i = 0; i < sign.length; i += 16) {
      let bits = 0;
      for (let j = i; j < Math.min(i + 16, sign.length); j++) if (sign[j] > 0) bits |= 1 << (j - i);
      key += String.fromCharCode(bits);
    }
    if (!cells.has(key)) cells.set(key, { sign, direction });
  };
  if (n === 1) {
    add(
      rows.map((w) => Math.sign(w[0])),
      [1],
    );
    add(
      rows.map((w) => -Math.sign(w[0])),
      [-1],
    );
  } else if (n === 2) {
    for (const u of sectorMidpoints(rows.map((w) => [w[0], w[1]])))
      add(
        rows.map((w) => Math.sign(w[0] * u[0] + w[1] * u[1])),
        u,
      );
  } else if (n === 3) {
    // On the sphere every cell touches a vertex ±(w_i × w_j); around a vertex the planes through it are lines.
    const unit = rows.map((w) => w.map((v) => v / norm(w)));
    for (let i = 0; i < rows.length; i++) {
      for (let j = i + 1; j < rows.length; j++) {
        const c = cross(unit[i], unit[j]);
        const len = norm(c);
        if (len < 1e-9) continue; // parallel planes meet in no vertex
        for (const orientation of [1, -1]) {
          const v = c.map((x) => (orientation * x) / len);
          const e1 = tangentBasis(v);
          const e2 = cross(v, e1);
          const through: number[] = [];
          const base = unit.map((w, k) => {
            const s = dot(w, v);
            if (Math.abs(s) <= 1e-10) {
              through.push(k);
              return 0;
            }
            return Math.sign(s);
          });
          const local = through.map((k) => [dot(unit[k], e1), dot(unit[k], e2)]);
          // Half the angular distance to the nearest plane not through v: a step that short crosses none of them.
          const step = 0.5 * Math.min(1, ...unit.map((w) => Math.abs(dot(w, v))).filter((s) => s > 1e-10));
          for (const u of sectorMidpoints(local)) {
            const sign = base.slice();
            through.forEach((k, t) => (sign[k] = Math.sign(local[t][0] * u[0] + local[t][1] * u[1])));
            const d = v.map((x, k) => x + step * (u[0] * e1[k] + u[1] * e2[k]));
            add(
              sign,
              d.map((x) => x / norm(d)),
            );
          }
        }
      }
    }
  } else {
    throw new Error(`centralCells: exact enumeration supports n ≤ 3, got n = ${n}`);
  }
  return [...cells.values()];
}

/** Unit directions, one inside each open sector cut out of the plane by lines through 0 with these normals. */
function sectorMidpoints(normals: Matrix): Vector[] {
  const angles: number[] = [];
  for (const [a, b] of normals) {
    const phi = Math.atan2(b, a);
    for (const t of [phi + Math.PI / 2, phi - Math.PI / 2]) angles.push(((t % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI));
  }
  angles.sort((x, y) => x - y);
  const distinct = angles.filter((a, i) => i === 0 || a - angles[i - 1] > 1e-12);
  if (distinct.length === 0) return [[1, 0]];
  return distinct.map((a, i) => {
    const next = i + 1 < distinct.length ? distinct[i + 1] : distinct[0] + 2 * Math.PI;
    const mid = (a + next) / 2;
    return [Math.cos(mid), Math.sin(mid)];
  });
}

/** Injective iff W has full column rank, for one-to-one activations; bound slope·σ_min(W) when slope > 0. */
function columnRankInjectivity(w: Matrix, slope: number, what: string): LayerResult {
  const m = w.length;
  const n = m === 0 ? 0 : w[0].length;
  const scale = w.reduce((max, row) => Math.max(max, norm(row)), 0);
  if (m < n) {
    return {
      verdict: 'not-injective',
      method: 'column-rank',
      reason: `${what}, so the layer is injective iff W has full column rank; W is ${m}×${n} with m < n.`,
    };
  }
  if (n > SVD_MAX_DIM) {
    const full = relativeMinPivot(rowGram(w, n)) > RANK_TOL * RANK_TOL;
    return {
      verdict: full ? 'injective' : 'not-injective',
      method: 'column-rank',
      reason: `${what}, so the layer is injective iff W has full column rank: W ${full ? 'has' : 'does not have'} rank ${n}.`,
    };
  }
  const { sigma, direction } = smallestSingular(w, n);
  if (sigma <= RANK_TOL * scale) {
    return {
      verdict: 'not-injective',
      method: 'column-rank',
      reason: `${what}, so the layer is injective iff W has full column rank; W has a kernel direction.`,
      counterExample: { kernel: direction },
    };
  }
  return {
    verdict: 'injective',
    method: 'column-rank',
    reason: `${what}, so the layer is injective iff W has full column rank, which it has (σ_min = ${sigma.toPrecision(4)}).`,
    inverseLipschitz:
      slope > 0
        ? { bound: slope * sigma, minSingularValue: sigma, formula: `${slope === 1 ? '' : `${slope} · `}σ_min(W)`, appliesTo: 'layer' }
        : undefined,
  };
}

/**
 * x ↦ |Wx + b|. |Wx+b| = |Wy+b| iff every row i has w_i·d = 0 or w_i·s = −b_i, with d = x − y, s = (x + y)/2.
 * So the layer fails to be injective iff some hyperplane H (normal d) leaves rows B outside it with
 * W_B s = −b_B solvable; taking H spanned by n−1 rows is enough (bigger H, fewer equations). Exact for n ≤ 3.
 */
export function absInjectivity(w: Matrix, b: Vector): LayerResult {
  const m = w.length;
  const n = m === 0 ? 0 : w[0].length;
  const scale = w.reduce((max, row) => Math.max(max, norm(row)), 0);
  if (n === 0) return { verdict: 'injective', method: 'rank', reason: 'The layer has no inputs.' };
  const rank = matrixRank(w, 1e-10);
  if (rank < n) {
    const kernel = n <= SVD_MAX_DIM ? smallestSingular(w, n).direction : undefined;
    return {
      verdict: 'not-injective',
      method: 'rank',
      reason: `W has rank ${rank} < n = ${n}: inputs differing along its kernel collide.`,
      counterExample: kernel ? { kernel } : undefined,
    };
  }
  if (b.every((v) => v === 0)) {
    return { verdict: 'not-injective', method: 'abs-hyperplanes', reason: 'With b = 0, |Wx| = |W(−x)|: x and −x always collide.' };
  }
  if (n > 3) {
    return {
      verdict: 'undecided',
      method: 'none',
      reason: `abs layers are decided exactly for n ≤ 3 only (n = ${n}); |Wx+b| is injective iff no hyperplane through n−1 rows leaves a solvable system W_B s = −b_B.`,
    };
  }
  const normals: Vector[] = [];
  if (n === 1) normals.push([1]);
  for (let i = 0; i < m && n >= 2; i++) {
    if (n === 2) {
      if (norm(w[i]) > 0) normals.push([-w[i][1], w[i][0]]);
      continue;
    }
    for (let j = i + 1; j < m; j++) {
      const c = cross(w[i], w[j]);
      if (norm(c) > 1e-9 * norm(w[i]) * norm(w[j])) normals.push(c);
    }
  }
  for (const raw of normals) {
    const d = raw.map((v) => v / norm(raw));
    const outside = w.map((_, i) => i).filter((i) => Math.abs(dot(w[i], d)) > 1e-10 * Math.max(scale, 1e-300));
    const { s, residual } = solveOffRows(w, b, outside);
    const bScale = Math.max(1, ...outside.map((i) => Math.abs(b[i])));
    if (residual <= 1e-9 * bScale) {
      const x0 = s.map((v, k) => v + d[k]);
      const x1 = s.map((v, k) => v - d[k]);
      return {
        verdict: 'not-injective',
        method: 'abs-hyperplanes',
        wedgesChecked: normals.length,
        reason: `|Wx + b| takes the same value at ${formatVector(x0)} and ${formatVector(x1)}.`,
        counterExample: { points: [x0, x1], direction: d },
      };
    }
  }
  return {
    verdict: 'injective',
    method: 'abs-hyperplanes',
    wedgesChecked: normals.length,
    reason: `For each of the ${normals.length} hyperplanes spanned by n−1 rows, the rows off it admit no point s with W_B s = −b_B, so no two inputs collide.`,
  };
}

/** Least-squares s for W_B s = −b_B and its residual norm. */
function solveOffRows(w: Matrix, b: Vector, rows: number[]): { s: Vector; residual: number } {
  const n = w[0].length;
  if (rows.length === 0) return { s: new Array<number>(n).fill(0), residual: 0 };
  const { solution } = leastSquares(
    rows.map((i) => w[i]),
    rows.map((i) => [-b[i]]),
  );
  const s = solution.map((row) => row[0]);
  const residual = Math.sqrt(rows.reduce((sum, i) => sum + (dot(w[i], s) + b[i]) ** 2, 0));
  return { s, residual };
}

function networkVerdict(network: FoldedNetwork, layers: LayerInjectivity[]): { verdict: InjectivityVerdict; reason: string } {
  if (network.output_dim < network.input_dim) {
    return {
      verdict: 'not-injective',
      reason: `A continuous map from ℝ^${network.input_dim} to ℝ^${network.output_dim} (fewer outputs than inputs) cannot be injective.`,
    };
  }
  if (layers.every((l) => l.verdict === 'injective')) {
    if (network.skip)
      return { verdict: 'undecided', reason: 'Every layer is injective, but the global linear skip can break injectivity of the sum.' };
    return { verdict: 'injective', reason: 'Every layer is injective, and a composition of injective layers is injective.' };
  }
  const weakest = layers.find((l) => l.verdict !== 'injective');
  return {
    verdict: weakest?.verdict === 'no-counter-example' ? 'no-counter-example' : 'undecided',
    reason: `Layer ${weakest ? weakest.layer + 1 : '?'} is ${weakest ? VERDICT_PHRASE[weakest.verdict] : 'unknown'}; layer-wise injectivity is sufficient, not necessary, so the whole network is not decided.`,
  };
}

const VERDICT_PHRASE: Record<InjectivityVerdict, string> = {
  injective: 'injective',
  'not-injective': 'not injective',
  'no-counter-example': 'without a counter-example so far (probing)',
  undecided: 'undecided',
};

function cross(a: Vector, b: Vector): Vector {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function tangentBasis(v: Vector): Vector {
  const helper = Math.abs(v[0]) < 0.9 ? [1, 0, 0] : [0, 1, 0];
  const c = cross(v, helper);
  const len = norm(c);
  return c.map((x) => x / len);
}

function formatVector(v: Vector): string {
  return `(${v.map((x) => Number(x.toPrecision(3))).join(', ')})`;
}
