import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { analyzeCommand } from '../../extension/cli/analyze';
import type { AnalysisReport } from '../../extension/police/analysis/report';
import type { FoldedNetwork } from '../../extension/police/network/network';
import { captureCli, writeRunDir, type CliResult } from './cli-harness';

const SPEC = resolve('test/fixtures/analyze-square.police.json');
const root = mkdtempSync(join(tmpdir(), 'police-analyze-'));
after(() => rmSync(root, { recursive: true, force: true }));

// [B; −DB] hidden layer with every unit positive on the square: smooth (swish β = 2) in the fixture's model.
function network(activation: 'swish' | 'relu'): FoldedNetwork {
  return {
    format: 'police-network/1',
    input_dim: 2,
    output_dim: 1,
    layers: [
      {
        weights: [
          [2, 1],
          [-0.5, 1.5],
          [-1, -0.5],
          [1.5, -4.5],
        ],
        bias: [4, 3, 2, 7],
        activation,
        ...(activation === 'swish' ? { beta: 2 } : {}),
      },
      { weights: [[1, -1, 0.5, 0.25]], bias: [0], activation: 'linear' },
    ],
  };
}

const runDir = (name: string, files: Record<string, string>): string => writeRunDir(root, name, files);

const run = (args: string[]): Promise<CliResult> => captureCli(analyzeCommand, args);

test('police analyze prints Markdown and writes analysis.json/.md beside the run; the anneal in metrics.jsonl is reported', async () => {
  const metrics = [
    { step: 10, loss: 1, beta: 1, residual: 0.2 },
    { step: 20, loss: 0.5, beta: 100, residual: 0.001 },
  ];
  const dir = runDir('swish', {
    'network.json': JSON.stringify(network('swish')),
    'network-init.json': JSON.stringify(network('swish')),
    'metrics.jsonl': metrics.map((m) => JSON.stringify(m)).join('\n') + '\n',
  });
  const { code, stdout } = await run([SPEC, dir]);
  assert.equal(code, 0);
  assert.match(stdout, /^# Analysis of analyze-square/);
  assert.match(stdout, /\*\*approximate\*\*/);
  assert.match(stdout, /\| 20 \| 100.0 \| 0.001000 \|/);
  assert.equal(readFileSync(join(dir, 'analysis.md'), 'utf8'), stdout);
  assert.match(stdout, /!\[Filter cosines of layer 1\]\(gram-layer-1\.png\)/);
  assert.ok(existsSync(join(dir, 'gram-layer-1.png')), 'the heat-map the Markdown links to exists');
  const report = JSON.parse(readFileSync(join(dir, 'analysis.json'), 'utf8')) as AnalysisReport;
  assert.equal(report.smooth.regions[0].kind, 'approximate');
  assert.equal(report.orthogonality[0].metricBefore, report.orthogonality[0].metric);
  assert.deepEqual(report.smooth.anneal, [
    { step: 10, beta: 1, residual: 0.2 },
    { step: 20, beta: 100, residual: 0.001 },
  ]);
});

test('--json prints the report; a ReLU layer gets an exact injectivity verdict', async () => {
  const dir = runDir('relu', { 'network.json': JSON.stringify(network('relu')) });
  const { code, stdout } = await run([SPEC, dir, '--json', '--probes', '50']);
  assert.equal(code, 0);
  const report = JSON.parse(stdout) as AnalysisReport;
  assert.equal(report.format, 'police-analysis/1');
  assert.equal(report.injectivity.layers[0].verdict, 'injective');
  assert.ok(report.smooth.regions[0].maxResidual < 1e-12);
});

test('a missing or malformed network.json, or a bad flag, is exit 1 with a message naming the file', async () => {
  const empty = runDir('empty', {});
  const missing = await run([SPEC, empty]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /network\.json does not exist; train the spec first/);
  assert.equal(existsSync(join(empty, 'analysis.json')), false);
  const broken = runDir('broken', { 'network.json': JSON.stringify({ ...network('relu'), input_dim: 3 }) });
  const bad = await run([SPEC, broken]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /network\.json/);
  const flag = await run([SPEC, empty, '--probes', 'many']);
  assert.equal(flag.code, 1);
  assert.match(flag.stderr, /--probes must be a non-negative integer, got 'many'/);
});
