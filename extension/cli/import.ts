// `police import SPEC FILE --out RUN`: a network trained elsewhere (ONNX plain MLP, or weights.safetensors) as a certified run folder.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { importModel } from '../police/io/formats';
import { certificateSummary, EXIT_BAD_INPUT, EXIT_NOT_PROVED, EXIT_PROVED } from './train';
import { InputError, readSpec } from './verify';
import { readSpecText } from './spec-file';

const USAGE = 'usage: police import SPEC FILE --out RUN [--json]';

export async function importCommand(args: string[]): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parseArgs({ args, allowPositionals: true, options: { out: { type: 'string' }, json: { type: 'boolean', default: false } } });
    } catch (error) {
      throw new InputError(`${(error as Error).message}\n${USAGE}`);
    }
    const { positionals, values } = parsed;
    if (positionals.length !== 2 || !values.out) throw new InputError(USAGE);
    const [specPath, file] = positionals;
    const runDir = path.resolve(values.out);
    if (existsSync(runDir)) throw new InputError(`${runDir} already exists; runs are never overwritten, choose another --out`);
    const spec = readSpec(specPath);
    const specText = readSpecText(specPath);
    let result;
    try {
      result = await importModel(spec, specText, file, runDir);
    } catch (error) {
      throw new InputError((error as Error).message);
    }
    const { certificate, notes, format } = result;
    for (const note of notes) process.stderr.write(`police import: note: ${note}\n`);
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ runDir, format, notes, certificate })}\n`);
    } else {
      process.stdout.write([`imported ${file} (${format}) into ${runDir}`, ...certificateSummary(certificate)].join('\n') + '\n');
    }
    return certificate.proved ? EXIT_PROVED : EXIT_NOT_PROVED;
  } catch (error) {
    if (error instanceof InputError) {
      process.stderr.write(`police import: ${error.message}\n`);
      return EXIT_BAD_INPUT;
    }
    throw error;
  }
}
