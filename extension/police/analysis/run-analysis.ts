// Analyse a run folder and write analysis.json, analysis.md and the heat-maps beside it (shared by the CLI and the editor).
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseNetworkText } from '../io/network-check';
import { readTextLimited } from '../io/safe-read';
import type { FoldedNetwork } from '../network/network';
import type { ResolvedSpec } from '../spec/types';
import { heatmapPng } from './heatmap';
import { analyze, renderMarkdown, type AnalysisReport, type AnalyzeOptions, type AnnealPoint } from './report';

import { ANALYSIS_FILES, RUN_FILES, tempFilePath } from '../io/run-files';

export interface RunAnalysis {
  report: AnalysisReport;
  markdown: string;
  /** Absolute paths of analysis.json and analysis.md (open the latter in a Markdown preview). */
  jsonPath: string;
  markdownPath: string;
}

/** Reads network.json (and network-init.json, metrics.jsonl when present), analyses, writes the files; throws with the failing file named. */
export function analyzeRun(
  spec: ResolvedSpec,
  runDir: string,
  options: Pick<AnalyzeOptions, 'probes' | 'seed' | 'samples'> = {},
): RunAnalysis {
  const networkPath = path.join(runDir, RUN_FILES.network);
  if (!existsSync(networkPath)) throw new Error(`${networkPath} does not exist; train the spec first`);
  const network = readNetwork(networkPath);
  if (network.input_dim !== spec.inputDim)
    throw new Error(`${networkPath} takes ${network.input_dim} inputs but the spec declares input.dim = ${spec.inputDim}`);
  const initialPath = path.join(runDir, RUN_FILES.initialNetwork);
  const initialNetwork = existsSync(initialPath) ? readNetwork(initialPath) : undefined;
  const report = analyze(network, spec, { ...options, initialNetwork, anneal: readAnneal(path.join(runDir, RUN_FILES.metrics)) });
  const gramImages: Record<number, string> = {};
  for (const row of report.orthogonality) {
    if (!row.cosine || row.units < 2) continue;
    const file = `gram-layer-${row.layer + 1}.png`;
    writeAtomically(path.join(runDir, file), heatmapPng(row.cosine));
    gramImages[row.layer] = file;
  }
  const markdown = renderMarkdown(report, { gramImages });
  const jsonPath = path.resolve(runDir, ANALYSIS_FILES.json);
  const markdownPath = path.resolve(runDir, ANALYSIS_FILES.markdown);
  writeAtomically(jsonPath, JSON.stringify(report, null, 2));
  writeAtomically(markdownPath, markdown);
  return { report, markdown, jsonPath, markdownPath };
}

export function readNetwork(file: string): FoldedNetwork {
  return parseNetworkText(readTextLimited(file, { kind: 'network' }), file);
}

/** β (and residual) per logged step, from metrics.jsonl rows that carry them. */
export function readAnneal(file: string): AnnealPoint[] {
  if (!existsSync(file)) return [];
  const points: AnnealPoint[] = [];
  readTextLimited(file, { kind: 'metrics' })
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      let row: { step?: unknown; beta?: unknown; residual?: unknown };
      try {
        row = JSON.parse(line);
      } catch {
        throw new Error(`${file}:${i + 1}: not a JSON line`);
      }
      if (typeof row.step !== 'number' || typeof row.beta !== 'number') return;
      points.push(
        typeof row.residual === 'number' ? { step: row.step, beta: row.beta, residual: row.residual } : { step: row.step, beta: row.beta },
      );
    });
  return points;
}

/** A reader (the editor's preview) never sees half a file. */
function writeAtomically(file: string, content: string | Uint8Array): void {
  const temp = tempFilePath(file);
  writeFileSync(temp, content);
  renameSync(temp, file);
}
