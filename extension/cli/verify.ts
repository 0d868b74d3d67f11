// `police verify SPEC DIR [--json]`: recompute the certificate of DIR/network.json for SPEC's regions and compare it with DIR/certificate.json.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { certify } from '../police/proof/certificate';
import type { Certificate, RegionCertificate } from '../police/proof/certificate-types';
import { checkNetwork } from '../police/io/network-check';
import type { FoldedNetwork } from '../police/network/network';
import type { ResolvedSpec } from '../police/spec/types';
import { RUN_FILES } from '../police/io/run-files';
import { readTextLimited, SafeReadError } from '../police/io/safe-read';
import { ALLOW_DATA_OUTSIDE_OPTION, readSpecText, validateSpecFile } from './spec-file';

/** Exit codes: every region proved and certificate.json agrees; a region not proved; bad input; certificate.json missing, unreadable or disagreeing. */
export const VERIFY_EXIT = { proved: 0, badInput: 1, notProved: 2, storedDisagrees: 3 } as const;

const USAGE = 'usage: police verify SPEC DIR [--json] [--samples N] [--seed S] [--allow-data-outside]';

/** A failure of the input, reported as one line naming the file; exit 1. */
export class InputError extends Error {}

interface StoredComparison {
  /** null when DIR has no readable certificate.json. */
  matches: boolean | null;
  detail: string;
}

export function readSpec(specPath: string, allowDataOutside = false): ResolvedSpec {
  let text: string;
  try {
    text = readSpecText(specPath);
  } catch (error) {
    throw new InputError(`cannot read spec: ${(error as Error).message}`);
  }
  const { spec, problems } = validateSpecFile(specPath, text, allowDataOutside);
  for (const p of problems.filter((q) => q.severity !== 'error')) {
    process.stderr.write(`${specPath}:${p.range.start.line + 1}:${p.range.start.character + 1}: ${p.severity}: ${p.message}\n`);
  }
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length || !spec) {
    const lines = errors.map((p) => `${specPath}:${p.range.start.line + 1}:${p.range.start.character + 1}: error: ${p.message}`);
    throw new InputError([`spec ${specPath} has ${errors.length || 'unresolved'} problem(s):`, ...lines].join('\n'));
  }
  return spec;
}

function readNetwork(dir: string): FoldedNetwork {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`run folder ${dir} does not exist or is not a folder`);
  const path = join(dir, RUN_FILES.network);
  let value: unknown;
  try {
    value = JSON.parse(readTextLimited(path, { kind: 'network' }));
  } catch (error) {
    throw new InputError(error instanceof SafeReadError ? error.message : `cannot read ${path}: ${(error as Error).message}`);
  }
  const { network, errors } = checkNetwork(value);
  if (!network) throw new InputError(`${path} is not a police-network/1 file:\n  ${errors.join('\n  ')}`);
  return network;
}

/** Does DIR/certificate.json say what the recomputation says: the same weights, the same verdict for every region? */
function compareStored(dir: string, certificate: Certificate): StoredComparison {
  const path = join(dir, RUN_FILES.certificate);
  if (!existsSync(path)) return { matches: null, detail: `no certificate.json in ${dir}: the run's claim cannot be checked` };
  let stored: Partial<Certificate>;
  try {
    stored = JSON.parse(readTextLimited(path, { kind: 'certificate' })) as Partial<Certificate>;
  } catch (error) {
    return { matches: false, detail: error instanceof SafeReadError ? error.message : `${path} is not JSON: ${(error as Error).message}` };
  }
  if (typeof stored !== 'object' || stored === null || typeof stored.weightsSha256 !== 'string')
    return { matches: false, detail: `${path} names no weightsSha256` };
  if (stored.weightsSha256 !== certificate.weightsSha256)
    return {
      matches: false,
      detail: `weights DIFFER from ${path} (stored ${stored.weightsSha256.slice(0, 12)}…, now ${certificate.weightsSha256.slice(0, 12)}…)`,
    };
  const verdicts = (c: Partial<Certificate>): string =>
    JSON.stringify([c.proved, Array.isArray(c.regions) ? c.regions.map((r) => [r?.name, r?.status]) : null]);
  if (verdicts(stored) !== verdicts(certificate))
    return {
      matches: false,
      detail: `weights match ${path}, but its verdicts DIFFER from the recomputed ones (proved, or a region's status)`,
    };
  return { matches: true, detail: `weights and verdicts match ${path}` };
}

const num = (v: number): string => (v === 0 ? '0' : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toPrecision(4) : v.toExponential(2));
const vec = (v: number[]): string => `[${v.map(num).join(', ')}]`;

function describeRegion(r: RegionCertificate): string[] {
  const head = `region '${r.name}' (${r.vertexCount} vertices): ${r.status === 'proved' ? 'proved' : r.status.toUpperCase()}`;
  const lines = [head];
  if (r.firstViolation) lines.push(`  first violation: layer ${r.firstViolation.layer}, unit ${r.firstViolation.unit}`);
  lines.push(
    `  min margin ${num(r.minMargin)}${r.maxErrorBound !== undefined ? ` (float64 error bound ≤ ${num(r.maxErrorBound)})` : ''}, ` +
      `max residual ${num(r.maxResidual)} over ${r.samplesChecked} convex combinations` +
      (r.constraintResidual !== undefined ? `, constraint residual ${num(r.constraintResidual)}` : ''),
  );
  if (r.affineMap.A.length) {
    lines.push(`  f(x) = A x + b with A = [${r.affineMap.A.map(vec).join(', ')}], b = ${vec(r.affineMap.b)}`);
  }
  for (const check of r.checks) lines.push(`  ${check.passed ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}`);
  return lines;
}

export async function verifyCommand(args: string[]): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        allowPositionals: true,
        options: { json: { type: 'boolean' }, samples: { type: 'string' }, seed: { type: 'string' }, ...ALLOW_DATA_OUTSIDE_OPTION },
      });
    } catch (error) {
      throw new InputError(`${(error as Error).message}\n${USAGE}`);
    }
    const { positionals, values } = parsed;
    if (positionals.length !== 2) throw new InputError(USAGE);
    const [specPath, dir] = positionals;
    const samples = values.samples === undefined ? 256 : Number(values.samples);
    const seed = values.seed === undefined ? 0 : Number(values.seed);
    if (!Number.isInteger(samples) || samples < 0)
      throw new InputError(`--samples must be a non-negative integer, got '${values.samples}'`);
    if (!Number.isInteger(seed)) throw new InputError(`--seed must be an integer, got '${values.seed}'`);

    const spec = readSpec(specPath, values['allow-data-outside'] === true);
    const network = readNetwork(dir);
    if (network.input_dim !== spec.inputDim) {
      throw new InputError(
        `${join(dir, RUN_FILES.network)} has input_dim ${network.input_dim} but spec '${spec.name}' has input.dim ${spec.inputDim}`,
      );
    }
    if (network.output_dim !== spec.outputUnits) {
      throw new InputError(
        `${join(dir, RUN_FILES.network)} has output_dim ${network.output_dim} but spec '${spec.name}' has ${spec.outputUnits} output units`,
      );
    }
    const certificate = certify(network, spec.regions, { spec: spec.name, samples, seed });
    const stored = compareStored(dir, certificate);
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ ...certificate, storedCertificateMatches: stored.matches })}\n`);
    } else {
      const out = [
        `spec '${spec.name}' (${specPath}), network ${join(dir, RUN_FILES.network)}`,
        `weights sha256 ${certificate.weightsSha256}: ${stored.detail}`,
      ];
      for (const r of certificate.regions) out.push(...describeRegion(r));
      if (certificate.overlaps.length)
        out.push(`overlapping regions: ${certificate.overlaps.map(([a, b]) => `'${a}' and '${b}'`).join(', ')}`);
      const failed = certificate.regions.filter((r) => r.status !== 'proved').length;
      out.push(
        failed ? `${failed} of ${certificate.regions.length} region(s) NOT proved` : `all ${certificate.regions.length} region(s) proved`,
      );
      if (stored.matches !== true) out.push(`certificate.json does not hold: ${stored.detail}`);
      process.stdout.write(`${out.join('\n')}\n`);
    }
    // A run whose stored certificate is missing or says something else is not what it claims, whatever the recomputation proves.
    if (stored.matches !== true) return VERIFY_EXIT.storedDisagrees;
    return certificate.proved ? VERIFY_EXIT.proved : VERIFY_EXIT.notProved;
  } catch (error) {
    if (error instanceof InputError) {
      process.stderr.write(`police verify: ${error.message}\n`);
      return VERIFY_EXIT.badInput;
    }
    throw error;
  }
}
