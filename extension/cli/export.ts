// `police export SPEC RUN --format onnx|safetensors|pytorch|tfjs --out PATH`: the run's folded network in a format other tools read.
import { parseArgs } from 'node:util';
import { exportRun } from '../police/io/formats';
import { EXPORT_FORMATS, isExportFormat } from '../police/io/format-names';
import { ONNX_OPSET } from '../police/io/onnx';
import { InputError, readSpec } from './verify';

const USAGE = `usage: police export SPEC RUN --format ${EXPORT_FORMATS.join('|')} --out PATH [--json]`;

export async function exportCommand(args: string[]): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        allowPositionals: true,
        options: { format: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean', default: false } },
      });
    } catch (error) {
      throw new InputError(`${(error as Error).message}\n${USAGE}`);
    }
    const { positionals, values } = parsed;
    if (positionals.length !== 2 || !values.format || !values.out) throw new InputError(USAGE);
    if (!isExportFormat(values.format))
      throw new InputError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got '${values.format}'`);
    const [specPath, runDir] = positionals;
    const spec = readSpec(specPath);
    let result;
    try {
      result = await exportRun(spec, runDir, values.format, values.out);
    } catch (error) {
      throw new InputError((error as Error).message);
    }
    const { certificate, files } = result;
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ format: values.format, files, weightsSha256: certificate.weightsSha256, proved: certificate.proved })}\n`,
      );
    } else {
      const detail = values.format === 'onnx' ? ` (ONNX opset ${ONNX_OPSET})` : '';
      process.stdout.write(
        [
          `exported ${runDir} as ${values.format}${detail}:`,
          ...files.map((f) => `  ${f}`),
          `weights sha256 ${certificate.weightsSha256}; ${certificate.regions.map((r) => `${r.name}: ${r.status}`).join(', ')}`,
        ].join('\n') + '\n',
      );
    }
    return 0;
  } catch (error) {
    if (error instanceof InputError) {
      process.stderr.write(`police export: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
