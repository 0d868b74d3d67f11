// `police bench [--json] [--quick] [--backend X|all] [--threads N] [--only D,L,W]`: the paper's Table 1, unconstrained vs POLICE training steps in the same process, interleaved; then the fig1 and fig2 examples' training steps.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import {
  createMlp,
  disposeMlp,
  disposePoliceTensors,
  forwardPlain,
  forwardPolice,
  policeTensors,
  regressionLoss,
  type Mlp,
  type PoliceTensors,
} from '../police/training/model';
import { Optimizer } from '../police/training/optimizer';
import { runPartitionBench } from '../police/partition/bench';
import { createRng } from '../police/common/random';
import type { BackendPreference } from '../protocol/messages';
import { BACKEND_PREFERENCES, initBackend, wasmThreadCount } from '../police/training/backend';
import { allCores } from '../police/training/wasm-threads';
import { nativeMatMulInstalled } from '../police/training/wasm-matmul';
import { train } from '../police/training/train';
import { validateSpecText } from '../police/spec/parse';

export interface BenchConfig {
  D: number;
  L: number;
  W: number;
}

/** Table 1 of the paper: input dimension, depth, width. */
export const TABLE_1: BenchConfig[] = [
  { D: 2, L: 2, W: 256 },
  { D: 2, L: 4, W: 64 },
  { D: 2, L: 4, W: 4096 },
  { D: 784, L: 2, W: 1024 },
  { D: 784, L: 8, W: 1024 },
  { D: 3072, L: 6, W: 4096 },
];

export interface BenchRow {
  D: number;
  L: number;
  W: number;
  N: number;
  P: number;
  backend: string;
  /** wasm threads (1 on other backends). */
  threads: number;
  unconstrained_ms: number;
  police_ms: number;
  ratio: number;
  /** Unconstrained with N+P rows: the same matmul shapes as POLICE, which isolates the cost of the shift itself. */
  unconstrained_np_ms: number;
  ratio_np: number;
}

const BATCH = 1024;
/** The wasm heap ends at 4 GiB; keep a safety margin for fragmentation and the allocator. */
const WASM_HEAP_LIMIT = 3 * 1024 ** 3;

function parameterCount({ D, L, W }: BenchConfig): number {
  return D * W + W + (L - 1) * (W * W + W) + W + 1;
}

/** Bytes a POLICE step needs at its peak: weights, gradients and Adam moments, plus ~6 (N+P)×W buffers per layer (matmul, bias, shift, activation, their gradients). */
export function estimateBytes(config: BenchConfig): number {
  const rows = BATCH + config.D + 1;
  return 4 * (4 * parameterCount(config) + 6 * rows * config.W * config.L + rows * config.D);
}

/** Floating-point operations of one POLICE step (forward, backward ≈ 2× forward). */
function stepFlops(config: BenchConfig): number {
  return 6 * (BATCH + config.D + 1) * parameterCount(config);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function simplexVertices(D: number): number[][] {
  return Array.from({ length: D + 1 }, (_, p) => Array.from({ length: D }, (_, j) => (p === j + 1 ? 1 : 0)));
}

/** Runs f, waits for its result on the device (asynchronously: webgpu has no synchronous read), disposes it. */
async function settled(f: () => tf.Tensor): Promise<void> {
  const t = f();
  await t.data();
  t.dispose();
}

/** Matmul throughput in GFLOP/s, to estimate each configuration's time before running it. */
async function measureGflops(quick: boolean): Promise<number> {
  // 512³ under --quick: a software GPU (SwiftShader) takes seconds for one 1024³ product.
  const size = quick ? 512 : 1024;
  const a = tf.randomNormal([size, size]) as tf.Tensor2D;
  await settled(() => tf.matMul(a, a));
  const started = performance.now();
  const repeats = 3;
  for (let i = 0; i < repeats; i++) await settled(() => tf.matMul(a, a));
  a.dispose();
  return (repeats * 2 * size ** 3) / ((performance.now() - started) / 1000) / 1e9;
}

type StepMode = 'plain' | 'plain-wide' | 'police';

class StepRunner {
  readonly mlp: Mlp;
  readonly police: PoliceTensors;
  private readonly optimizer = new Optimizer({ kind: 'adam', lr: 1e-4, weightDecay: 0 });
  private readonly x: tf.Tensor2D;
  private readonly y: tf.Tensor2D;
  /** N+P rows: the batch plus as many extra samples as the region has vertices. */
  private readonly xWide: tf.Tensor2D;
  private readonly yWide: tf.Tensor2D;
  private readonly variables: tf.Variable[];

  constructor(config: BenchConfig) {
    const layers = Array.from({ length: config.L }, () => ({ units: config.W, activation: 'leaky_relu' as const, alpha: 0.01 }));
    this.mlp = createMlp({ inputDim: config.D, layers, outputUnits: 1 }, 0);
    const rng = createRng(1);
    this.x = tf.tensor2d(
      Float32Array.from({ length: BATCH * config.D }, () => rng.uniform(-1, 1)),
      [BATCH, config.D],
    );
    this.y = tf.tensor2d(
      Float32Array.from({ length: BATCH }, () => rng.normal()),
      [BATCH, 1],
    );
    const vertices = simplexVertices(config.D);
    this.xWide = tf.concat([this.x, tf.tensor2d(vertices)]);
    this.yWide = tf.concat([this.y, tf.zeros([vertices.length, 1])]);
    this.police = policeTensors({ vertices, regionSizes: [vertices.length], rule: 'majority', margin: 1e-4, penalties: [] }, config.D);
    this.variables = [...this.mlp.kernels, ...this.mlp.biases];
  }

  /** One forward + backward + optimizer step; returns its wall time in ms. */
  async step(mode: StepMode): Promise<number> {
    const started = performance.now();
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        if (mode === 'police') return regressionLoss(forwardPolice(this.mlp, this.x, this.police).output, this.y);
        return mode === 'plain'
          ? regressionLoss(forwardPlain(this.mlp, this.x), this.y)
          : regressionLoss(forwardPlain(this.mlp, this.xWide), this.yWide);
      }, this.variables);
      this.optimizer.apply(this.variables, grads, () => true);
      return value;
    });
    await loss.data();
    loss.dispose();
    return performance.now() - started;
  }

  dispose(): void {
    this.optimizer.dispose();
    disposePoliceTensors(this.police);
    disposeMlp(this.mlp);
    tf.dispose([this.x, this.y, this.xWide, this.yWide]);
  }
}

/** Warm-up, then interleaved unconstrained / POLICE steps until the time budget or the repeat cap. */
export async function benchConfig(config: BenchConfig, budgetMs: number, maxRepeats: number): Promise<BenchRow> {
  const runner = new StepRunner(config);
  try {
    const modes: StepMode[] = ['plain', 'police', 'plain-wide'];
    const times: Record<StepMode, number[]> = { plain: [], police: [], 'plain-wide': [] };
    let perRound = 0;
    for (const mode of modes) perRound += await runner.step(mode);
    const started = performance.now();
    const repeats = Math.max(2, Math.min(maxRepeats, Math.floor(budgetMs / Math.max(perRound, 1e-3))));
    for (let r = 0; r < repeats; r++) {
      // Rotate which goes first so none always runs on a cold cache.
      for (let i = 0; i < modes.length; i++) {
        const mode = modes[(i + r) % modes.length];
        times[mode].push(await runner.step(mode));
      }
      if (r >= 1 && performance.now() - started > budgetMs) break;
    }
    const unconstrained = median(times.plain);
    const police = median(times.police);
    const wide = median(times['plain-wide']);
    return {
      ...config,
      N: BATCH,
      P: config.D + 1,
      backend: tf.getBackend(),
      threads: tf.getBackend() === 'wasm' ? wasmThreadCount() : 1,
      unconstrained_ms: unconstrained,
      police_ms: police,
      ratio: police / unconstrained,
      unconstrained_np_ms: wide,
      ratio_np: police / wide,
    };
  } finally {
    runner.dispose();
  }
}

function pad(text: string, width: number): string {
  return text.padStart(width);
}

/** The examples whose training steps the bench times: the paper's Figure 1 (classification) and Figure 2 (regression). */
export const FIGURE_EXAMPLES = ['fig1-moons-classification', 'fig2-wave-triangle'];

/** One example's training, timed per step: the whole step of `police train` (batch, loss, POLICE, Adam, health, selection). */
export interface FigureRow {
  example: string;
  backend: string;
  threads: number;
  steps: number;
  step_ms: number;
}

/** The examples folder: next to the bundle (dist/../examples) or in the source tree. */
function examplesDirectory(): string | undefined {
  return [path.resolve(__dirname, '..', 'examples'), path.resolve(__dirname, '..', '..', 'examples')].find((dir) =>
    existsSync(path.join(dir, `${FIGURE_EXAMPLES[0]}.police.json`)),
  );
}

/** Trains `steps` steps of an example and returns the wall time per step between the 10th step and the last one before selection. */
async function benchFigure(example: string, file: string, steps: number): Promise<FigureRow> {
  const { spec } = validateSpecText(readFileSync(file, 'utf8'), file);
  if (!spec) throw new Error(`${file} is not a valid spec`);
  const marks: { step: number; at: number }[] = [];
  // Up to the start of the best-network selection (the final fifth), which a run does only 20 times in all.
  const last = Math.floor(steps * 0.8);
  await train(spec, {
    steps,
    backend: tf.getBackend() as BackendPreference,
    progressIntervalMs: 50,
    onProgress: (p) => marks.push({ step: p.step, at: performance.now() }),
  });
  const first = marks.find((m) => m.step >= 10);
  const end = [...marks].reverse().find((m) => m.step <= last);
  const stepMs = first && end && end.step > first.step ? (end.at - first.at) / (end.step - first.step) : NaN;
  return { example, backend: tf.getBackend(), threads: tf.getBackend() === 'wasm' ? wasmThreadCount() : 1, steps, step_ms: stepMs };
}

function figureLine(row: FigureRow): string {
  return `${row.example.padEnd(28)} ${pad(row.step_ms.toFixed(2), 8)} ms a training step (${row.steps} steps, ${row.backend}${row.backend === 'wasm' ? `, ${row.threads === 1 ? 'one thread' : `${row.threads} threads`}` : ''})`;
}

function tableRowLine(row: BenchRow): string {
  const target = 1.25 * (row.D === 2 ? 1 : (row.N + row.P) / row.N);
  return `${pad(String(row.D), 5)} ${pad(String(row.L), 3)} ${pad(String(row.W), 5)} ${pad(String(row.P), 5)} ${pad(row.unconstrained_ms.toFixed(2), 14)} ${pad(row.police_ms.toFixed(2), 10)} ${pad(`×${row.ratio.toFixed(2)}`, 6)} ${pad(`≤${target.toFixed(2)}`, 7)}   ${pad(row.unconstrained_np_ms.toFixed(2), 19)} ${pad(`×${row.ratio_np.toFixed(2)}`, 6)}`;
}

const TABLE_HEADER = `${pad('D', 5)} ${pad('L', 3)} ${pad('W', 5)} ${pad('P', 5)} ${pad('no constr. ms', 14)} ${pad('POLICE ms', 10)} ${pad('ratio', 6)} ${pad('target', 7)}   ${pad('no constr. N+P rows', 19)} ${pad('ratio', 6)}`;

/** What one backend's run of the bench produced. */
interface BackendResult {
  rows: BenchRow[];
  figures: FigureRow[];
}

/** The Table 1 rows of one backend, printed as they come; undefined when that backend cannot start here. */
async function benchBackend(
  preference: BackendPreference,
  options: { quick: boolean; json: boolean; only?: BenchConfig; strict: boolean; threads: number; figures: boolean },
  say: (line: string) => void,
): Promise<BackendResult | undefined> {
  // The bench times one wasm thread unless --threads says otherwise (a process starts wasm once, with one pool).
  const choice = await initBackend(preference, { stepFlops: Infinity }, { wasmThreads: options.threads });
  if (options.strict && choice.backend !== preference) {
    say(
      `backend ${preference}: not available here (${choice.notes.filter((n) => !n.startsWith('preferred')).join('; ') || 'did not start'})`,
    );
    return undefined;
  }
  for (const note of choice.notes) process.stderr.write(`police bench: ${note}\n`);
  const gflops = await measureGflops(options.quick);
  const { quick } = options;
  /** Seconds a configuration may take, warm-up included; the whole bench stays near 5 minutes on 2 cores. */
  const configBudgetS = quick ? 8 : 150;
  /** Milliseconds of interleaved rounds after the warm-up (at least two rounds run whatever this says). */
  const roundsBudgetMs = quick ? 4000 : 50000;
  say(`POLICE bench: batch N=${BATCH}, simplex region P=D+1, Adam step, backend ${choice.reason} (~${gflops.toFixed(1)} GFLOP/s matmul)`);
  if (!options.json) say(TABLE_HEADER);
  const rows: BenchRow[] = [];
  const configs = options.only ? [options.only] : TABLE_1;
  for (const config of configs) {
    if (quick && !options.only && (config.D > 2 || config.W > 256)) continue;
    const bytes = estimateBytes(config);
    if (choice.backend === 'wasm' && bytes > WASM_HEAP_LIMIT) {
      say(
        `skipped (D=${config.D}, L=${config.L}, W=${config.W}): needs about ${(bytes / 1024 ** 3).toFixed(1)} GiB, the ${choice.backend} heap ends at 4 GiB`,
      );
      continue;
    }
    // One warm-up round and at least two interleaved rounds of the three step kinds.
    const estimateS = (9 * stepFlops(config)) / (gflops * 1e9);
    if (estimateS > configBudgetS) {
      say(
        `skipped (D=${config.D}, L=${config.L}, W=${config.W}): estimated ${estimateS.toFixed(0)} s at ${gflops.toFixed(1)} GFLOP/s, over this run's ${configBudgetS} s per configuration`,
      );
      continue;
    }
    const row = await benchConfig(config, roundsBudgetMs, quick ? 10 : 40);
    rows.push(row);
    if (options.json) process.stdout.write(`${JSON.stringify(row)}\n`);
    else say(tableRowLine(row));
  }
  const figures: FigureRow[] = [];
  const dir = options.figures ? examplesDirectory() : undefined;
  if (options.figures && !dir) say('fig1/fig2 rows skipped: the examples folder was not found');
  for (const example of dir ? FIGURE_EXAMPLES : []) {
    const row = await benchFigure(example, path.join(dir!, `${example}.police.json`), quick ? 60 : 300);
    figures.push(row);
    if (options.json) process.stdout.write(`${JSON.stringify(row)}\n`);
    else say(figureLine(row));
  }
  return { rows, figures };
}

/**
 * wasm with `threads` threads in a child `police bench` (a process starts wasm once, so one thread and every core need two);
 * its rows come back as JSON and are printed here.
 */
function benchWasmChild(
  threads: number,
  xnnpackOnly: boolean,
  options: { quick: boolean; json: boolean; only?: BenchConfig; figures: boolean },
  say: (line: string) => void,
): BackendResult {
  const args = [
    ...process.execArgv,
    process.argv[1],
    'bench',
    '--backend',
    'wasm',
    '--threads',
    String(threads),
    '--json',
    '--skip-partition',
  ];
  if (options.quick) args.push('--quick');
  if (options.only) args.push('--only', `${options.only.D},${options.only.L},${options.only.W}`);
  if (!options.figures) args.push('--skip-figures');
  const child = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
    env: xnnpackOnly ? { ...process.env, POLICE_NATIVE_MATMUL: '0' } : process.env,
  });
  // The child's header and skip lines arrive on its stderr (it runs with --json).
  for (const line of (child.stderr ?? '').split('\n').filter(Boolean)) say(line);
  if (!options.json) say(TABLE_HEADER);
  const result: BackendResult = { rows: [], figures: [] };
  for (const line of (child.stdout ?? '').split('\n').filter(Boolean)) {
    const parsed = JSON.parse(line) as BenchRow | FigureRow;
    if (options.json) process.stdout.write(`${line}\n`);
    if ('example' in parsed) {
      result.figures.push(parsed);
      if (!options.json) say(figureLine(parsed));
    } else {
      result.rows.push(parsed);
      if (!options.json) say(tableRowLine(parsed));
    }
  }
  if (child.status !== 0) say(`wasm with ${threads} thread(s): the bench child failed (exit ${child.status ?? child.signal})`);
  return result;
}

/** Backends `--backend all` tries, fastest kinds first; each that starts gets its own table, then one side by side. */
const ALL_BACKENDS: BackendPreference[] = ['tensorflow', 'webgpu'];

export async function benchCommand(args: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args,
      options: {
        json: { type: 'boolean', default: false },
        quick: { type: 'boolean', default: false },
        backend: { type: 'string', default: 'auto' },
        threads: { type: 'string' },
        only: { type: 'string' },
        'skip-partition': { type: 'boolean', default: false },
        'skip-figures': { type: 'boolean', default: false },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`police bench: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const backend = values.backend;
  if (backend !== 'all' && !BACKEND_PREFERENCES.includes(backend as BackendPreference)) {
    process.stderr.write(`police bench: --backend must be all or one of ${BACKEND_PREFERENCES.join(', ')}, got '${backend}'\n`);
    return 1;
  }
  const threads = values.threads === undefined ? 1 : Number(values.threads);
  if (!Number.isInteger(threads) || threads < 0) {
    process.stderr.write(`police bench: --threads takes a whole number ≥ 0 (0 = every core), got '${values.threads}'\n`);
    return 1;
  }
  let only: BenchConfig | undefined;
  if (values.only !== undefined) {
    const [D, L, W] = values.only.split(',').map(Number);
    if (![D, L, W].every((n) => Number.isInteger(n) && n > 0)) {
      process.stderr.write(`police bench: --only takes D,L,W (positive integers), got '${values.only}'\n`);
      return 1;
    }
    only = { D, L, W };
  }
  const say = (line: string) => (values.json ? process.stderr : process.stdout).write(`${line}\n`);
  const figures = !only && !values['skip-figures'];
  const options = { quick: values.quick, json: values.json, only, strict: backend === 'all', threads, figures };
  const results = new Map<string, BackendResult>();
  const label = (name: string, n: number) => (name === 'wasm' ? `wasm ×${n}` : name);
  for (const preference of backend === 'all' ? ALL_BACKENDS : [backend as BackendPreference]) {
    const result = await benchBackend(preference, options, say);
    if (result) results.set(label(preference === 'auto' ? tf.getBackend() : preference, wasmThreadCount()), result);
  }
  if (backend === 'all') {
    // wasm on one thread, then on every core, each in its own process; with ONNX Runtime's matmuls, then XNNPACK's too.
    for (const xnnpackOnly of nativeMatMulInstalled() ? [false, true] : [false])
      for (const n of allCores() > 1 ? [1, allCores()] : [1]) {
        const result = benchWasmChild(n, xnnpackOnly, options, say);
        const threadsUsed = result.rows[0]?.threads ?? result.figures[0]?.threads ?? n;
        results.set(xnnpackOnly ? `xnnpack ×${threadsUsed}` : label('wasm', threadsUsed), result);
      }
  }
  if (results.size > 1 && !values.json) {
    const names = [...results.keys()];
    say(`POLICE step ms, side by side:`);
    say(`${pad('D', 5)} ${pad('L', 3)} ${pad('W', 5)} ${names.map((n) => pad(n, 12)).join(' ')}`);
    for (const config of only ? [only] : TABLE_1) {
      const cells = names.map((n) => results.get(n)?.rows.find((r) => r.D === config.D && r.L === config.L && r.W === config.W));
      if (cells.every((c) => !c)) continue;
      say(
        `${pad(String(config.D), 5)} ${pad(String(config.L), 3)} ${pad(String(config.W), 5)} ${cells.map((c) => pad(c ? c.police_ms.toFixed(2) : '—', 12)).join(' ')}`,
      );
    }
    for (const example of figures ? FIGURE_EXAMPLES : []) {
      const cells = names.map((n) => results.get(n)?.figures.find((f) => f.example === example));
      if (cells.every((c) => !c)) continue;
      say(`${`${example.split('-')[0]} step`.padEnd(15)} ${cells.map((c) => pad(c ? c.step_ms.toFixed(2) : '—', 12)).join(' ')}`);
    }
  }
  // The view's exact linear-region partition (issue 4), timed on the same machine.
  if (!only && !values['skip-partition']) for (const line of await runPartitionBench({ quick: values.quick })) say(line);
  return 0;
}
