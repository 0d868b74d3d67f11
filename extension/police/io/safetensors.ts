// The safetensors layout (8-byte little-endian header length, a JSON header, raw little-endian tensors): no npm package reads and writes it well, and it is small.

/** The dtypes POLICE writes and reads: float weights only. */
export type SafetensorsDtype = 'F32' | 'F64';

export interface NamedTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Row-major values. */
  data: Float32Array | Float64Array;
}

export interface SafetensorsFile {
  tensors: Map<string, NamedTensor>;
  /** The header's `__metadata__` (string values only, as the format requires). */
  metadata: Record<string, string>;
}

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F64: 8 };
/** A header larger than this is refused before parsing (the reference implementation's limit). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const elementCount = (shape: number[]): number => shape.reduce((n, d) => n * d, 1);

/** Serialises tensors in the given order, each buffer 8-byte aligned by padding the header with spaces (as the reference writer does). */
export function encodeSafetensors(tensors: Array<[string, NamedTensor]>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, tensor] of tensors) {
    if (name === '__metadata__') throw new Error('a tensor cannot be named __metadata__');
    if (tensor.data.length !== elementCount(tensor.shape))
      throw new Error(`tensor ${name}: ${tensor.data.length} values for shape [${tensor.shape.join(', ')}]`);
    const bytes = tensor.data.length * BYTES[tensor.dtype];
    header[name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const headerLength = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - ((8 + headerLength) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const [, tensor] of tensors) {
    for (const value of tensor.data) {
      if (tensor.dtype === 'F32') view.setFloat32(at, value, true);
      else view.setFloat64(at, value, true);
      at += BYTES[tensor.dtype];
    }
  }
  return out;
}

/** Parses a safetensors file; every error names `file` and what is wrong. F16/BF16/integer tensors are refused by name. */
export function decodeSafetensors(bytes: Uint8Array, file: string): SafetensorsFile {
  const fail = (message: string): never => {
    throw new Error(`${file}: ${message}`);
  };
  if (bytes.length < 8) fail(`${bytes.length} bytes is too short for a safetensors file (it starts with an 8-byte header length)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, bytes.length - 8)))
    fail(`the header length ${headerLength} exceeds the file (${bytes.length} bytes): not a safetensors file`);
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, Number(headerLength)).toString('utf8'));
  } catch (err) {
    return fail(`the header is not JSON (${(err as Error).message}): not a safetensors file`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return fail('the header is not a JSON object');
  const tensors = new Map<string, NamedTensor>();
  const metadata: Record<string, string> = {};
  const dataLength = bytes.length - dataStart;
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null) fail('__metadata__ is not an object');
      for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof value !== 'string') fail(`__metadata__.${key} is not a string`);
        metadata[key] = value as string;
      }
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (dtype !== 'F32' && dtype !== 'F64')
      fail(`tensor ${name} has dtype ${JSON.stringify(dtype)}; POLICE reads F32 and F64 weights (convert with tensor.float() first)`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor ${name} has no valid shape`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0))
      fail(`tensor ${name} has no valid data_offsets`);
    const [begin, end] = offsets as [number, number];
    const size = BYTES[dtype as SafetensorsDtype];
    const count = elementCount(shape as number[]);
    if (end - begin !== count * size || end > dataLength || begin > end)
      fail(`tensor ${name}: data_offsets [${begin}, ${end}] do not hold ${count} ${dtype} values inside the ${dataLength} data bytes`);
    const data = dtype === 'F32' ? new Float32Array(count) : new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const at = dataStart + begin + i * size;
      data[i] = dtype === 'F32' ? view.getFloat32(at, true) : view.getFloat64(at, true);
    }
    tensors.set(name, { dtype: dtype as SafetensorsDtype, shape: shape as number[], data });
  }
  return { tensors, metadata };
}

/** A float64 tensor when some value is not exactly a float32 (the exact skip), else float32: the file keeps every weight bit for bit. */
export function tensorOf(values: number[], shape: number[]): NamedTensor {
  const exact32 = values.every((v) => Math.fround(v) === v);
  return exact32 ? { dtype: 'F32', shape, data: Float32Array.from(values) } : { dtype: 'F64', shape, data: Float64Array.from(values) };
}
