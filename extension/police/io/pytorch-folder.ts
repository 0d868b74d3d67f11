// `police export --format pytorch`: police_model.py (the POLICE layer in PyTorch), train.py (DDP under torchrun), the spec's data and initial weights.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ACTIVATIONS, NETWORK_ACTIVATIONS } from '../spec/activations';
import type { Matrix, ResolvedSpec } from '../spec/types';
import { initBackend } from '../training/backend';
import { loadData } from '../training/data';
import { buildPoliceContext, createMlp, disposeMlp } from '../training/model';
import { encodeSafetensors, type NamedTensor } from './safetensors';
import { TENSOR_NAMES } from './weights';

export const PYTORCH_FILES = {
  model: 'police_model.py',
  train: 'train.py',
  readme: 'README.md',
  config: 'police_config.json',
  data: 'data.safetensors',
  initial: 'initial.safetensors',
  /** Written by train.py: the folded network, for `police import`. */
  weights: 'weights.safetensors',
} as const;

/** police_config.json: everything train.py needs from the spec, resolved (vertices, the exact skip's pseudo-inverse, penalty targets). */
export interface PytorchConfig {
  format: 'police-pytorch/1';
  spec: string;
  input_dim: number;
  output_units: number;
  layers: Array<{ units: number; activation: string; alpha: number; beta: number }>;
  task: 'regression' | 'classification';
  training: { steps: number; batch: number; optimizer: string; lr: number; weight_decay: number; seed: number };
  police?: {
    rule: string;
    margin: number;
    vertices: Matrix;
    region_sizes: number[];
    exact?: { kind: string; offset: number; count: number; pinv: Matrix; A: Matrix; b: number[] };
    penalties: Array<{ kind: string; offset: number; count: number; target: Matrix }>;
  };
  /** What train.py does not mirror from the spec, printed when it starts. */
  notes: string[];
}

export function pytorchConfig(spec: ResolvedSpec): PytorchConfig {
  const notes: string[] = [];
  if (spec.training.anneal) notes.push('training.anneal is not mirrored: β stays at its initial value');
  if (spec.training.orthogonality) notes.push('training.orthogonality is not mirrored: no orthogonality penalty or parametrisation');
  if (spec.layers.some((l) => l.learnBeta)) notes.push('learn_beta is not mirrored: β is fixed');
  const t = spec.training;
  const config: PytorchConfig = {
    format: 'police-pytorch/1',
    spec: spec.name,
    input_dim: spec.inputDim,
    output_units: spec.outputUnits,
    layers: spec.layers.map((l) => ({ units: l.units, activation: l.activation, alpha: l.alpha, beta: l.beta ?? 1 })),
    task: spec.data.task,
    training: { steps: t.steps, batch: t.batch, optimizer: t.optimizer, lr: t.lr, weight_decay: t.weightDecay, seed: t.seed },
    notes,
  };
  if (spec.police.enabled && spec.regions.length > 0) {
    const context = buildPoliceContext(spec);
    config.police = {
      rule: context.rule,
      margin: context.margin,
      vertices: context.vertices,
      region_sizes: context.regionSizes,
      penalties: context.penalties.map((p) => ({ kind: p.kind, offset: p.offset, count: p.count, target: p.target })),
    };
    if (context.exact) {
      const e = context.exact;
      config.police.exact = { kind: e.kind, offset: e.offset, count: e.count, pinv: e.pinv, A: e.A, b: e.b };
    }
  }
  return config;
}

/** The engine's initial (unfolded) parameters for the spec's seed, named as police_model.py's state dict. */
export async function initialTensors(spec: ResolvedSpec): Promise<Array<[string, NamedTensor]>> {
  await initBackend('auto');
  const mlp = createMlp({ inputDim: spec.inputDim, layers: spec.layers, outputUnits: spec.outputUnits }, spec.training.seed);
  try {
    const entries: Array<[string, NamedTensor]> = [];
    mlp.kernels.forEach((kernel, i) => {
      const [fanIn, fanOut] = kernel.shape;
      const values = kernel.dataSync() as Float32Array;
      // The engine stores Wᵀ (fan_in × fan_out); PyTorch's Linear stores W (fan_out × fan_in).
      const weight = new Float32Array(fanIn * fanOut);
      for (let o = 0; o < fanOut; o++) for (let j = 0; j < fanIn; j++) weight[o * fanIn + j] = values[j * fanOut + o];
      const names = i < spec.layers.length ? TENSOR_NAMES.hidden(i) : TENSOR_NAMES.output;
      entries.push([names.weight, { dtype: 'F32', shape: [fanOut, fanIn], data: weight }]);
      entries.push([names.bias, { dtype: 'F32', shape: [fanOut], data: Float32Array.from(mlp.biases[i].dataSync()) }]);
    });
    return entries;
  } finally {
    disposeMlp(mlp);
  }
}

/** Folder of the Python templates: beside this module in the sources, dist/pytorch in the bundle (build.mjs copies it). */
function templateDir(): string {
  const dir = path.join(__dirname, 'pytorch');
  if (!existsSync(path.join(dir, PYTORCH_FILES.model))) throw new Error(`the PyTorch templates are missing from ${dir}`);
  return dir;
}

/** police_model.py with the activation table written in from spec/activations.ts. */
export function policeModelSource(): string {
  const table = NETWORK_ACTIVATIONS.map((name) => `    "${name}": lambda z, alpha, beta: ${ACTIVATIONS[name].pytorch},`).join('\n');
  return readFileSync(path.join(templateDir(), PYTORCH_FILES.model), 'utf8').replace('    # @POLICE_ACTIVATIONS@', table);
}

function readme(spec: ResolvedSpec, count: number): string {
  return `# ${spec.name} in PyTorch

Written by POLICE Studio (\`police export SPEC RUN --format pytorch\`). Needs Python 3 with torch (and numpy).

| file | what |
|---|---|
| \`${PYTORCH_FILES.model}\` | \`PoliceMLP\`: the spec's network with the same POLICE layer as the engine (rule \`${spec.police.rule}\`, margin ${spec.police.margin}, ${spec.regions.length} region(s), the exact Eq. 1/Eq. 2 skip, folding) |
| \`${PYTORCH_FILES.train}\` | training with DistributedDataParallel (gloo on CPU, nccl on GPUs) |
| \`${PYTORCH_FILES.config}\` | the resolved spec: layers, vertices, shift rule, margin, training settings |
| \`${PYTORCH_FILES.data}\` | the training data the engine uses (${count} samples: \`x\`, \`y\`) |
| \`${PYTORCH_FILES.initial}\` | the engine's initial weights for seed ${spec.training.seed} |

Train on N processes (one per GPU, or CPU processes), then bring the network back and certify it:

\`\`\`sh
OMP_NUM_THREADS=1 torchrun --nproc_per_node=2 ${PYTORCH_FILES.train} --steps ${spec.training.steps}
police import ${spec.name}.police.json ${PYTORCH_FILES.weights} --out runs/${spec.name}-torch
police verify ${spec.name}.police.json runs/${spec.name}-torch
\`\`\`

\`${PYTORCH_FILES.train}\` writes the folded network as \`${PYTORCH_FILES.weights}\` (hidden.<i>.weight/bias, output.weight/bias,
skip.weight/bias) and the loss every few steps to \`metrics.jsonl\`.
`;
}

/** Writes the PyTorch folder for `spec` into `outDir` (created; existing files of the same names are replaced). Returns the files written. */
export async function writePytorchFolder(spec: ResolvedSpec, outDir: string): Promise<string[]> {
  const data = await loadData(spec);
  const tensors = await initialTensors(spec);
  mkdirSync(outDir, { recursive: true });
  const files: Array<[string, string | Uint8Array]> = [
    [PYTORCH_FILES.model, policeModelSource()],
    [PYTORCH_FILES.train, readFileSync(path.join(templateDir(), PYTORCH_FILES.train), 'utf8')],
    [PYTORCH_FILES.config, JSON.stringify(pytorchConfig(spec), null, 1)],
    [
      PYTORCH_FILES.data,
      encodeSafetensors([
        ['x', { dtype: 'F32', shape: [data.count, data.inputDim], data: data.x }],
        ['y', { dtype: 'F32', shape: [data.count, data.y.length / data.count], data: data.y }],
      ]),
    ],
    [PYTORCH_FILES.initial, encodeSafetensors(tensors, { 'police.spec': spec.name })],
    [PYTORCH_FILES.readme, readme(spec, data.count)],
  ];
  for (const [name, contents] of files) writeFileSync(path.join(outDir, name), contents);
  return files.map(([name]) => name);
}
