// `police analyze SPEC DIR [--json] [--probes K] [--seed S]`: smooth-activation residual, orthogonality and injectivity of a run.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { heatmapPng } from '../police/analysis/heatmap';
import { analyze, renderMarkdown, type AnnealPoint } from '../police/analysis/report';
import type { FoldedNetwork } from '../police/network';
import { checkNetwork } from '../police/network-check';
import { validateSpecText } from '../police/parse';
import { RUN_FILES } from '../police/run-folder';

export const ANALYSIS_FILES = { json: 'analysis.json', markdown: 'analysis.md' } as const;

const USAGE = 'usage: police analyze SPEC DIR [--json] [--probes K] [--seed S]';

export async function analyzeCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { json: { type: 'boolean', default: false }, probes: { type: 'string' }, seed: { type: 'string' } },
    });
  } catch (err) {
    process.stderr.write(`police analyze: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 1;
  }
  const [specPath, runDir] = parsed.positionals;
  if (!specPath || !runDir) {
    process.stderr.write(`${USAGE}\n`);
    return 1;
  }
  const count = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a non-negative integer, got '${text}'`);
    return value;
  };
  let probes: number | undefined;
  let seed: number | undefined;
  try {
    probes = count('probes', parsed.values.probes);
    seed = count('seed', parsed.values.seed);
  } catch (err) {
    process.stderr.write(`police analyze: ${(err as Error).message}\n`);
    return 1;
  }

  let specText: string;
  try {
    specText = readFileSync(specPath, 'utf8');
  } catch (err) {
    process.stderr.write(`police analyze: cannot read ${specPath}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
    return 1;
  }
  const { spec, problems } = validateSpecText(specText, path.resolve(specPath));
  const errors = problems.filter((p) => p.severity === 'error');
  if (!spec || errors.length > 0) {
    for (const p of errors) process.stderr.write(`${specPath}:${p.range.start.line + 1}:${p.range.start.character + 1}: error: ${p.message} [${p.code}]\n`);
    return 1;
  }
  const networkPath = path.join(runDir, RUN_FILES.network);
  if (!existsSync(networkPath)) {
    process.stderr.write(`police analyze: ${networkPath} does not exist; train first (police train ${specPath} --out ${runDir})\n`);
    return 1;
  }
  let network: FoldedNetwork;
  try {
    network = readNetwork(networkPath);
  } catch (err) {
    process.stderr.write(`police analyze: ${(err as Error).message}\n`);
    return 1;
  }
  if (network.input_dim !== spec.inputDim) {
    process.stderr.write(`police analyze: ${networkPath} takes ${network.input_dim} inputs but ${specPath} declares input.dim = ${spec.inputDim}\n`);
    return 1;
  }
  const initialPath = path.join(runDir, RUN_FILES.initialNetwork);
  const initialNetwork = existsSync(initialPath) ? readNetwork(initialPath) : undefined;
  const report = analyze(network, spec, { initialNetwork, anneal: readAnneal(path.join(runDir, RUN_FILES.metrics)), probes, seed });
  const gramImages: Record<number, string> = {};
  for (const row of report.orthogonality) {
    if (!row.cosine || row.units < 2) continue;
    const file = `gram-layer-${row.layer + 1}.png`;
    writeAtomically(path.join(runDir, file), heatmapPng(row.cosine));
    gramImages[row.layer] = file;
  }
  const markdown = renderMarkdown(report, { gramImages });
  writeAtomically(path.join(runDir, ANALYSIS_FILES.json), JSON.stringify(report, null, 2));
  writeAtomically(path.join(runDir, ANALYSIS_FILES.markdown), markdown);
  process.stdout.write(parsed.values.json ? `${JSON.stringify(report)}\n` : markdown);
  return 0;
}

function readNetwork(file: string): FoldedNetwork {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  const { network, errors } = checkNetwork(value);
  if (!network) throw new Error(`${file}: ${errors.join('; ')}`);
  return network;
}

/** β (and residual) per logged step, from metrics.jsonl rows that carry them. */
export function readAnneal(file: string): AnnealPoint[] {
  if (!existsSync(file)) return [];
  const points: AnnealPoint[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as { step?: number; beta?: number; residual?: number };
    if (typeof row.step === 'number' && typeof row.beta === 'number') {
      points.push(typeof row.residual === 'number' ? { step: row.step, beta: row.beta, residual: row.residual } : { step: row.step, beta: row.beta });
    }
  }
  return points;
}

/** A reader (the editor's preview) never sees half a file. */
function writeAtomically(file: string, text: string | Uint8Array): void {
  const temp = `${file}.tmp-${process.pid}`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}
