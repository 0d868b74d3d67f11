// The export formats by name, free of heavy imports so the extension host can offer them (the work runs in the CLI's process).

export const EXPORT_FORMATS = ['onnx', 'safetensors', 'pytorch', 'tfjs'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function isExportFormat(name: string): name is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(name);
}

/** Whether a format's --out is one file (onnx, safetensors) or a folder (pytorch, tfjs). */
export const EXPORT_WRITES_FILE: Record<ExportFormat, boolean> = { onnx: true, safetensors: true, pytorch: false, tfjs: false };
