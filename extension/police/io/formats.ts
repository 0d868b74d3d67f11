// Taking a run out (onnx, safetensors, pytorch, tfjs) and bringing a network in (ONNX or safetensors → a complete run folder).
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Certificate } from '../proof/certificate-types';
import { certify } from '../proof/certificate';
import type { FoldedNetwork } from '../network/network';
import type { ResolvedSpec } from '../spec/types';
import { initBackend } from '../training/backend';
import type { ExportFormat } from './format-names';
import { checkNetwork, parseNetworkText } from './network-check';
import { exportOnnx, importOnnx } from './onnx';
import { writePytorchFolder } from './pytorch-folder';
import { RUN_FILES } from './run-files';
import { readFileLimited } from './safe-read';
import { writeRunFolder } from './run-folder';
import { hiddenLayerInfo, networkFromSafetensors, networkToSafetensors } from './weights';

/** Reads a model file the user named through the one safe reader: a regular file within READ_LIMITS.model (1 GiB). */
export function readUserFile(file: string): Uint8Array {
  return readFileLimited(file, { kind: 'model' });
}

function readRunNetwork(runDir: string): FoldedNetwork {
  const file = path.join(runDir, RUN_FILES.network);
  if (!existsSync(file)) throw new Error(`${file} does not exist; is ${runDir} a run folder?`);
  return parseNetworkText(new TextDecoder().decode(readUserFile(file)), file);
}

export interface ExportResult {
  /** Paths written. */
  files: string[];
  /** The certificate recomputed for the exported weights (its hash and regions are what the metadata states). */
  certificate: Certificate;
}

/** Writes the run's folded network in `format` to `out` (a file for onnx/safetensors, a folder for pytorch/tfjs). */
export async function exportRun(spec: ResolvedSpec, runDir: string, format: ExportFormat, out: string): Promise<ExportResult> {
  const network = readRunNetwork(runDir);
  if (network.input_dim !== spec.inputDim || network.output_dim !== spec.outputUnits)
    throw new Error(
      `${path.join(runDir, RUN_FILES.network)} maps ${network.input_dim} → ${network.output_dim} but spec '${spec.name}' has ${spec.inputDim} inputs and ${spec.outputUnits} outputs`,
    );
  const certificate = certify(network, spec.regions, { spec: spec.name });
  const writeFile = (contents: Uint8Array): string[] => {
    mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    writeFileSync(out, contents);
    return [out];
  };
  switch (format) {
    case 'onnx':
      return { files: writeFile(exportOnnx(network, certificate)), certificate };
    case 'safetensors':
      return { files: writeFile(networkToSafetensors(network, certificate)), certificate };
    case 'pytorch':
      return { files: (await writePytorchFolder(spec, out)).map((f) => path.join(out, f)), certificate };
    case 'tfjs': {
      mkdirSync(out, { recursive: true });
      const names = [RUN_FILES.model, RUN_FILES.weights, RUN_FILES.network, RUN_FILES.certificate].filter((f) =>
        existsSync(path.join(runDir, f)),
      );
      if (!names.includes(RUN_FILES.model)) throw new Error(`${runDir} has no ${RUN_FILES.model}; is it a finished run?`);
      for (const name of names) copyFileSync(path.join(runDir, name), path.join(out, name));
      return { files: names.map((f) => path.join(out, f)), certificate };
    }
  }
}

export type ImportFormat = 'onnx' | 'safetensors';

/** safetensors starts with a little-endian header length and then '{'; anything else is taken for ONNX (protobuf). */
export function detectImportFormat(bytes: Uint8Array): ImportFormat {
  if (bytes.length >= 9 && bytes[8] === 0x7b) {
    const length = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
    if (length <= BigInt(bytes.length - 8)) return 'safetensors';
  }
  return 'onnx';
}

export interface ImportedNetwork {
  network: FoldedNetwork;
  format: ImportFormat;
  /** Where the imported architecture differs from the spec's model (the certificate is about the imported one). */
  notes: string[];
}

/** The network held by an ONNX or safetensors file, checked against the spec's input and output sizes. */
export function readImportedNetwork(spec: ResolvedSpec, file: string): ImportedNetwork {
  const bytes = readUserFile(file);
  const format = detectImportFormat(bytes);
  const specLayers = spec.layers.map((l) =>
    l.activation === 'leaky_relu' ? { activation: l.activation, alpha: l.alpha } : { activation: l.activation },
  );
  const network = format === 'onnx' ? importOnnx(bytes, file) : networkFromSafetensors(bytes, file, specLayers).network;
  const { errors } = checkNetwork(network);
  if (errors.length) throw new Error(`${file}: ${errors.join('; ')}`);
  if (network.input_dim !== spec.inputDim)
    throw new Error(`${file} takes ${network.input_dim} inputs but spec '${spec.name}' has input.dim ${spec.inputDim}`);
  if (network.output_dim !== spec.outputUnits)
    throw new Error(`${file} has ${network.output_dim} outputs but spec '${spec.name}' has ${spec.outputUnits} output units`);
  const notes: string[] = [];
  const imported = hiddenLayerInfo(network);
  const widths = network.layers.slice(0, -1).map((l) => l.bias.length);
  const same =
    imported.length === spec.layers.length && spec.layers.every((l, i) => l.units === widths[i] && l.activation === imported[i].activation);
  if (!same)
    notes.push(
      `the imported network's hidden layers (${widths.map((w, i) => `${w} ${imported[i].activation}`).join(', ') || 'none'}) differ from spec '${spec.name}' (${spec.layers.map((l) => `${l.units} ${l.activation}`).join(', ')}); the certificate is about the imported network`,
    );
  return { network, format, notes };
}

export interface ImportResult extends ImportedNetwork {
  certificate: Certificate;
}

/** Imports `file` for `spec` and writes a complete run folder (spec copy, network.json, tfjs model, certificate, empty metrics). */
export async function importModel(spec: ResolvedSpec, specText: string, file: string, runDir: string): Promise<ImportResult> {
  const imported = readImportedNetwork(spec, file);
  // The run folder holds a tfjs model too: tfjs-layers needs a backend to build it.
  await initBackend('auto');
  const certificate = certify(imported.network, spec.regions, { spec: spec.name });
  await writeRunFolder(runDir, { specText, network: imported.network, certificate, metrics: [] });
  return { ...imported, certificate };
}
