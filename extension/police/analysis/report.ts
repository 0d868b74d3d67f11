// `analyze(network, spec)`: the companion analyses of a trained run as one JSON report, plus its Markdown rendering.
import type { FoldedNetwork } from '../network/network';
import type { ResolvedRegion } from '../spec/types';
import { analyzeInjectivity, RANK_TOL, type InjectivityOptions, type InjectivityReport } from './injectivity';
import { analyzeOrthogonality, type LayerOrthogonality } from './orthogonality';
import { affineResidual } from '../network/affine-residual';
import { isSmoothActivation } from '../spec/activations';
import { hasAnnealableLayers, hasSmoothLayers, residualVersusBeta, type BetaPoint } from './smooth';

/** One point of the anneal schedule as the trainer logged it (metrics.jsonl rows that carry a β). */
export interface AnnealPoint {
  step: number;
  beta: number;
  /** Largest affine residual on the first region at that step, when the trainer measured it. */
  residual?: number;
}

export interface RegionResidual {
  name: string;
  /** 'exact': piecewise-affine activations, the certificate decides; 'approximate': smooth activations, residual measured. */
  kind: 'exact' | 'approximate';
  maxResidual: number;
  vertexResidual: number;
  outputScale: number;
  samples: number;
  /** Same weights, every swish/softplus β set to the given value (null = the hard ReLU limit). */
  betaSweep?: BetaPoint[];
}

export interface OrthogonalityRow extends LayerOrthogonality {
  /** The metric of the same layer at initialisation, when the run kept it. */
  metricBefore?: number;
}

export interface AnalysisReport {
  format: 'police-analysis/1';
  spec: string;
  createdAt: string;
  network: { inputDim: number; outputDim: number; layers: { units: number; activation: string }[]; skip: boolean };
  smooth: { approximate: boolean; smoothLayers: number[]; regions: RegionResidual[]; anneal?: AnnealPoint[] };
  orthogonality: OrthogonalityRow[];
  injectivity: InjectivityReport;
}

export interface AnalyzeOptions extends InjectivityOptions {
  /** The network at initialisation (network-init.json), for the orthogonality "before" column. */
  initialNetwork?: FoldedNetwork;
  /** Anneal schedule points from the training metrics. */
  anneal?: AnnealPoint[];
  /** Random convex combinations per region for the residual. */
  samples?: number;
  /** Fixed timestamp (tests); defaults to now. */
  createdAt?: string;
}

export function analyze(
  network: FoldedNetwork,
  spec: { name: string; regions: ResolvedRegion[] },
  options: AnalyzeOptions = {},
): AnalysisReport {
  const smoothLayers = network.layers.flatMap((layer, i) => (isSmoothActivation(layer.activation) ? [i] : []));
  const approximate = hasSmoothLayers(network);
  const annealable = hasAnnealableLayers(network);
  const residualOptions = { samples: options.samples, seed: options.seed };
  const regions = spec.regions.map((region): RegionResidual => {
    const r = affineResidual(network, region.vertices, residualOptions);
    return {
      name: region.name,
      kind: approximate ? 'approximate' : 'exact',
      maxResidual: r.maxResidual,
      vertexResidual: r.vertexResidual,
      outputScale: r.outputScale,
      samples: r.samples,
      betaSweep: annealable ? residualVersusBeta(network, region.vertices, undefined, residualOptions) : undefined,
    };
  });
  const before = options.initialNetwork ? analyzeOrthogonality(options.initialNetwork) : undefined;
  const orthogonality = analyzeOrthogonality(network).map((row, i): OrthogonalityRow => {
    const initial = before?.[i];
    return initial && initial.units === row.units ? { ...row, metricBefore: initial.metric } : row;
  });
  return {
    format: 'police-analysis/1',
    spec: spec.name,
    createdAt: options.createdAt ?? new Date().toISOString(),
    network: {
      inputDim: network.input_dim,
      outputDim: network.output_dim,
      layers: network.layers.map((l) => ({ units: l.weights.length, activation: l.activation })),
      skip: network.skip !== undefined,
    },
    smooth: { approximate, smoothLayers, regions, anneal: options.anneal?.length ? options.anneal : undefined },
    orthogonality,
    injectivity: analyzeInjectivity(network, options),
  };
}

const fmt = (v: number | undefined): string =>
  v === undefined ? '—' : v === 0 ? '0' : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toPrecision(4) : v.toExponential(2);

const VERDICT_TEXT: Record<string, string> = {
  injective: 'injective (proved)',
  'not-injective': 'not injective (proved)',
  'no-counter-example': 'no counter-example found',
  undecided: 'undecided',
};

export interface MarkdownOptions {
  /** Layer index → path (relative to the Markdown file) of its cosine heat-map PNG. */
  gramImages?: Record<number, string>;
}

/** The report as Markdown, for the CLI and the editor's preview beside the view. */
export function renderMarkdown(report: AnalysisReport, options: MarkdownOptions = {}): string {
  const lines: string[] = [];
  const arch = [String(report.network.inputDim), ...report.network.layers.map((l) => `${l.units} ${l.activation}`)].join(' → ');
  lines.push(
    `# Analysis of ${report.spec}`,
    '',
    `Network: ${arch}${report.network.skip ? ' (+ linear skip)' : ''}. Created ${report.createdAt}.`,
    '',
  );

  lines.push('## Affine on the regions');
  lines.push('');
  if (report.smooth.approximate) {
    lines.push(
      `${report.smooth.smoothLayers.length === 1 ? 'Layer' : 'Layers'} ${report.smooth.smoothLayers.map((i) => i + 1).join(', ')} ${report.smooth.smoothLayers.length === 1 ? 'uses a smooth activation' : 'use smooth activations'}: POLICE is **approximate** there. ` +
        'The residual is the largest |f(x) − (Ax + b)| over random points of R, (A, b) the least-squares fit of the vertex outputs.',
    );
  } else {
    lines.push('Every activation is piecewise affine: the certificate decides exactly; the residual below is a float64 cross-check.');
  }
  lines.push('', '| region | kind | max residual | at vertices | output scale | samples |', '|---|---|---|---|---|---|');
  for (const r of report.smooth.regions)
    lines.push(`| ${r.name} | ${r.kind} | ${fmt(r.maxResidual)} | ${fmt(r.vertexResidual)} | ${fmt(r.outputScale)} | ${r.samples} |`);
  for (const r of report.smooth.regions.filter((x) => x.betaSweep)) {
    lines.push('', `Residual on ${r.name} for the final weights with β set to each value (∞ = hard ReLU):`, '');
    lines.push(`| β | ${r.betaSweep!.map((p) => (p.beta === null ? '∞' : String(p.beta))).join(' | ')} |`);
    lines.push(`|---|${r.betaSweep!.map(() => '---').join('|')}|`);
    lines.push(`| residual | ${r.betaSweep!.map((p) => fmt(p.maxResidual)).join(' | ')} |`);
  }
  if (report.smooth.anneal) {
    lines.push('', 'Anneal during training (β and the residual on the first region):', '', '| step | β | residual |', '|---|---|---|');
    for (const p of annealRows(report.smooth.anneal)) lines.push(`| ${p.step} | ${fmt(p.beta)} | ${fmt(p.residual)} |`);
  }

  lines.push('', '## Orthogonality of the filters', '');
  lines.push('Metric ‖WWᵀ − diag(WWᵀ)‖_F / ‖WWᵀ‖_F per layer (0 = orthogonal rows).', '');
  lines.push('| layer | units | at init | trained | Σ⟨w_k, w_k′⟩² | ‖WWᵀ − I‖_F |', '|---|---|---|---|---|---|');
  for (const o of report.orthogonality)
    lines.push(
      `| ${o.layer + 1} | ${o.units} | ${fmt(o.metricBefore)} | ${fmt(o.metric)} | ${fmt(o.penalty)} | ${fmt(o.distanceToIdentity)} |`,
    );
  const images = Object.entries(options.gramImages ?? {});
  if (images.length) {
    lines.push(
      '',
      'Cosines between the filters of each layer (red +1, white 0, blue −1; an orthogonal layer is white off the diagonal):',
      '',
    );
    for (const [layer, file] of images) lines.push(`![Filter cosines of layer ${Number(layer) + 1}](${file}) `);
  }
  const wide = report.orthogonality.filter((o) => o.units > o.inputs);
  if (wide.length) {
    lines.push(
      '',
      `Layer${wide.length > 1 ? 's' : ''} ${wide.map((o) => o.layer + 1).join(', ')} ${wide.length > 1 ? 'have' : 'has'} more units than inputs: at most as many rows as inputs can be orthogonal (the exact parametrisation makes the columns orthonormal there instead).`,
    );
  }

  lines.push('', '## Injectivity, layer by layer', '');
  lines.push(`Whole network: **${VERDICT_TEXT[report.injectivity.network.verdict]}**. ${report.injectivity.network.reason}`, '');
  lines.push(
    `Ranks are numerical: a singular value below ${RANK_TOL} × the largest row norm counts as zero. "No counter-example found" comes from probing and is never a proof.`,
    '',
  );
  lines.push(
    '| layer | activation | n → m | counting rows | verdict | method | inverse-Lipschitz bound |',
    '|---|---|---|---|---|---|---|',
  );
  for (const l of report.injectivity.layers) {
    const bound = l.inverseLipschitz
      ? `${fmt(l.inverseLipschitz.bound)}${l.inverseLipschitz.appliesTo === 'bias-free-layer' ? ' (bias-free layer¹)' : ''}`
      : '—';
    lines.push(
      `| ${l.layer + 1} | ${l.activation} | ${l.inputDim} → ${l.rows} | ${l.countingRows ?? '—'} | ${VERDICT_TEXT[l.verdict]} | ${l.method} | ${bound} |`,
    );
  }
  lines.push('');
  for (const l of report.injectivity.layers) lines.push(`- Layer ${l.layer + 1}: ${l.reason}`);
  if (report.injectivity.layers.some((l) => l.inverseLipschitz?.appliesTo === 'bias-free-layer')) {
    lines.push(
      '',
      '¹ The slides state the bound for ReLU(Wx); with biases it is the bound of the equivalent layer ReLU(W₊x), W₊ keeping the rows with b ≥ 0 (the lemma), not of ReLU(Wx + b) itself.',
    );
  }
  lines.push('');
  return lines.join('\n');
}

/** At most 20 rows: the steps where a residual was measured, or evenly spaced steps when none was. */
function annealRows(points: AnnealPoint[]): AnnealPoint[] {
  const measured = points.filter((p) => p.residual !== undefined);
  const rows = measured.length ? measured : points;
  if (rows.length <= 20) return rows;
  return Array.from({ length: 20 }, (_, i) => rows[Math.round((i * (rows.length - 1)) / 19)]);
}
