// The folded network as an ONNX model (opset 17, written with onnx-proto's protobufjs schema), and plain MLPs read back from ONNX.
import { onnx } from 'onnx-proto';
import type { Certificate } from '../proof/certificate-types';
import { unitBeta, type FoldedNetwork, type NetworkLayer } from '../network/network';
import { ACTIVATIONS, NETWORK_ACTIVATIONS, type NetworkActivation, type OnnxActivationOp, type OnnxGraphSink } from '../spec/activations';
import type { Matrix, Vector } from '../spec/types';
import { TENSOR_NAMES } from './weights';

/** The ONNX operator set the export targets (Gemm, Relu, LeakyRelu, Abs, Sigmoid, Tanh, Softplus, Mul, Div, Add). */
export const ONNX_OPSET = 17;
/** IR version 8 is the one ONNX 1.12 pairs with opset 17. */
const IR_VERSION = 8;

/** Metadata property keys of an exported model. */
export const ONNX_METADATA_KEYS = {
  spec: 'police.spec',
  weightsSha256: 'police.weights_sha256',
  /** JSON: [{name, status, affineMap: {A, b}}] per region of the certificate. */
  regions: 'police.regions',
} as const;

function float32Bytes(values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return bytes;
}

/** Attributes ONNX types as integers (every other attribute the export writes is a float, e.g. LeakyRelu's alpha). */
const INT_ATTRIBUTES = new Set(['transA', 'transB', 'axis']);

/** Collects nodes and float32 initializers; the activation table writes its part through the OnnxGraphSink side. */
class GraphBuilder implements OnnxGraphSink {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private counter = 0;

  node(opType: string, inputs: string[], attributes: Record<string, number> = {}): string {
    const name = `${opType}_${this.counter++}`;
    const output = `${name}_out`;
    this.nodes.push({
      name,
      opType,
      input: inputs,
      output: [output],
      attribute: Object.entries(attributes).map(([key, value]) =>
        INT_ATTRIBUTES.has(key)
          ? { name: key, type: onnx.AttributeProto.AttributeType.INT, i: value }
          : { name: key, type: onnx.AttributeProto.AttributeType.FLOAT, f: value },
      ),
    });
    return output;
  }

  constant(values: number[]): string {
    return this.tensor(`const_${this.counter++}`, values, [values.length]);
  }

  tensor(name: string, values: ArrayLike<number>, dims: number[]): string {
    this.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: float32Bytes(values) });
    return name;
  }

  matrix(name: string, rows: Matrix): string {
    return this.tensor(name, rows.flat(), [rows.length, rows[0]?.length ?? 0]);
  }

  /** y = x Wᵀ + b: Gemm with transB, the weight stored K×D as PyTorch's Linear stores it. */
  dense(input: string, weights: Matrix, bias: Vector, names: { weight: string; bias: string }): string {
    return this.node('Gemm', [input, this.matrix(names.weight, weights), this.tensor(names.bias, bias, [bias.length])], { transB: 1 });
  }
}

const valueInfo = (name: string, width: number): onnx.IValueInfoProto => ({
  name,
  type: {
    tensorType: {
      elemType: onnx.TensorProto.DataType.FLOAT,
      shape: { dim: [{ dimParam: 'batch' }, { dimValue: width }] },
    },
  },
});

/** The folded network as ONNX bytes: input `x` (batch × D, float32), output `y`; metadata: spec name, weights hash, per region status and map. */
export function exportOnnx(network: FoldedNetwork, certificate: Certificate): Uint8Array {
  const graph = new GraphBuilder();
  let h = 'x';
  network.layers.forEach((layer, i) => {
    const names = i === network.layers.length - 1 && layer.activation === 'linear' ? TENSOR_NAMES.output : TENSOR_NAMES.hidden(i);
    const z = graph.dense(h, layer.weights, layer.bias, names);
    const beta = layer.bias.map((_, k) => unitBeta(layer, k));
    h = ACTIVATIONS[layer.activation].onnx(graph, z, layer.alpha ?? 0, beta);
  });
  if (network.skip) h = graph.node('Add', [h, graph.dense('x', network.skip.weights, network.skip.bias, TENSOR_NAMES.skip)]);
  // The graph output is named y: the last node's output takes that name.
  const last = graph.nodes[graph.nodes.length - 1];
  last.output = ['y'];
  const regions = certificate.regions.map((r) => ({ name: r.name, status: r.status, affineMap: r.affineMap }));
  const model: onnx.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'POLICE Studio',
    docString: `POLICE-certified network for spec '${certificate.spec}'`,
    graph: {
      name: 'police_folded',
      node: graph.nodes,
      initializer: graph.initializers,
      input: [valueInfo('x', network.input_dim)],
      output: [valueInfo('y', network.output_dim)],
    },
    metadataProps: [
      { key: ONNX_METADATA_KEYS.spec, value: certificate.spec },
      { key: ONNX_METADATA_KEYS.weightsSha256, value: certificate.weightsSha256 },
      { key: ONNX_METADATA_KEYS.regions, value: JSON.stringify(regions) },
    ],
  };
  return onnx.ModelProto.encode(model).finish();
}

// ---------- import: a plain MLP from ONNX ----------

const SUPPORTED =
  'police import reads plain MLPs: Gemm or MatMul + Add, with Relu, LeakyRelu or Abs between them (Flatten, Identity and Constant nodes are passed over)';

/** An affine map of the graph input (D → K), not yet followed by an activation. */
interface Affine {
  weights: Matrix;
  bias: Vector;
}

/** A value of the graph during the walk: a constant tensor, or the network applied to the input so far. */
type Value =
  | { kind: 'const'; dims: number[]; data: Float64Array }
  | { kind: 'net'; layers: NetworkLayer[]; pending?: Affine; width: number; skip?: Affine };

const toInt = (v: number | { toNumber(): number } | null | undefined): number =>
  v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber();

function tensorValues(tensor: onnx.ITensorProto, where: string): Float64Array {
  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)
    throw new Error(`${where} keeps its data in an external file; save the model with its weights inside (save_as_external_data=False)`);
  const dims = (tensor.dims ?? []).map(toInt);
  const count = dims.reduce((n, d) => n * d, 1);
  const type = tensor.dataType;
  const raw = tensor.rawData && tensor.rawData.length ? tensor.rawData : undefined;
  const out = new Float64Array(count);
  if (type === onnx.TensorProto.DataType.FLOAT || type === onnx.TensorProto.DataType.DOUBLE) {
    const size = type === onnx.TensorProto.DataType.FLOAT ? 4 : 8;
    if (raw) {
      if (raw.length !== count * size) throw new Error(`${where} holds ${raw.length} bytes for ${count} values`);
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let i = 0; i < count; i++) out[i] = size === 4 ? view.getFloat32(i * 4, true) : view.getFloat64(i * 8, true);
      return out;
    }
    const list = type === onnx.TensorProto.DataType.FLOAT ? tensor.floatData : tensor.doubleData;
    if (!list || list.length !== count) throw new Error(`${where} holds ${list?.length ?? 0} values for dims [${dims.join(', ')}]`);
    for (let i = 0; i < count; i++) out[i] = type === onnx.TensorProto.DataType.FLOAT ? Math.fround(list[i]) : list[i];
    return out;
  }
  throw new Error(`${where} has element type ${onnx.TensorProto.DataType[type ?? 0] ?? type}; POLICE reads float and double weights`);
}

function constOf(tensor: onnx.ITensorProto, where: string): Value {
  return { kind: 'const', dims: (tensor.dims ?? []).map(toInt), data: tensorValues(tensor, where) };
}

function attributes(node: onnx.INodeProto): Map<string, onnx.IAttributeProto> {
  return new Map((node.attribute ?? []).map((a) => [a.name ?? '', a]));
}

function constMatrix(value: Value, rows: number, cols: number): Matrix {
  const data = (value as { data: Float64Array }).data;
  return Array.from({ length: rows }, (_, r) => Array.from(data.subarray(r * cols, (r + 1) * cols)));
}

const transpose = (m: Matrix): Matrix => (m[0] ?? []).map((_, j) => m.map((row) => row[j]));

/** Reads a plain MLP from ONNX bytes; anything else throws an error naming the first node it cannot take. */
export function importOnnx(bytes: Uint8Array, file: string): FoldedNetwork {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new Error(`${file} is not an ONNX model: ${(err as Error).message}`);
  }
  const graph = model.graph;
  if (!graph) throw new Error(`${file} is an ONNX model without a graph`);
  const values = new Map<string, Value>();
  for (const init of graph.initializer ?? []) values.set(init.name ?? '', constOf(init, `${file}: initializer '${init.name}'`));
  const inputs = (graph.input ?? []).filter((i) => !values.has(i.name ?? ''));
  if (inputs.length !== 1)
    throw new Error(`${file}: the graph has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); a plain MLP has one`);
  const inputDims = inputs[0].type?.tensorType?.shape?.dim ?? [];
  const inputDim = toInt(inputDims[inputDims.length - 1]?.dimValue);
  if (!(inputDim > 0)) throw new Error(`${file}: input '${inputs[0].name}' has no fixed last dimension (the number of features)`);
  const inputName = inputs[0].name ?? '';
  values.set(inputName, { kind: 'net', layers: [], width: inputDim });

  const nodes = graph.node ?? [];
  nodes.forEach((node, index) => {
    const op = node.opType ?? '';
    const label = `node ${index} '${node.name || op}' (${op})`;
    const unsupported = (why: string): never => {
      throw new Error(`${file}: ${label} ${why}. ${SUPPORTED}.`);
    };
    const input = (i: number): Value => {
      const name = node.input?.[i] ?? '';
      const value = values.get(name);
      if (!value) return unsupported(`reads '${name}', which no supported node produced`);
      return value;
    };
    const attrs = attributes(node);
    const output = (value: Value): void => {
      if ((node.output ?? []).length !== 1) unsupported('has more than one output');
      values.set(node.output![0], value);
    };
    const net = (value: Value): Extract<Value, { kind: 'net' }> =>
      value.kind === 'net' ? value : unsupported('computes on constants only');
    /** Starts a new affine map after `from`: a pending one without activation becomes a linear layer first. */
    const affineAfter = (from: Extract<Value, { kind: 'net' }>, weights: Matrix, bias: Vector): Value => {
      const layers = from.pending ? [...from.layers, { ...from.pending, activation: 'linear' as NetworkActivation }] : from.layers;
      if (weights[0]?.length !== from.width) unsupported(`multiplies ${from.width} features by a ${weights[0]?.length ?? 0}-input matrix`);
      return { kind: 'net', layers, pending: { weights, bias }, width: weights.length, skip: from.skip };
    };
    switch (op) {
      case 'Constant': {
        const value = attrs.get('value');
        if (value?.t) output(constOf(value.t, `${file}: ${label}`));
        else if (attrs.get('value_float')) output({ kind: 'const', dims: [], data: Float64Array.of(attrs.get('value_float')!.f ?? 0) });
        else if (attrs.get('value_floats')) {
          const floats = attrs.get('value_floats')!.floats ?? [];
          output({ kind: 'const', dims: [floats.length], data: Float64Array.from(floats) });
        } else unsupported('holds no float tensor');
        return;
      }
      case 'Identity':
        output(input(0));
        return;
      case 'Flatten': {
        const axis = toInt(attrs.get('axis')?.i ?? 1);
        if (axis !== 1 && axis !== -1) unsupported(`flattens from axis ${axis}; only a batch × features input (axis 1) is a plain MLP`);
        output(input(0));
        return;
      }
      case 'Gemm': {
        const a = net(input(0));
        const b = input(1);
        if (b.kind !== 'const' || b.dims.length !== 2) return unsupported('multiplies by something that is not a constant matrix');
        if (toInt(attrs.get('transA')?.i) !== 0) unsupported('transposes its input (transA = 1)');
        const alpha = attrs.get('alpha')?.f ?? 1;
        const beta = attrs.get('beta')?.f ?? 1;
        const transB = toInt(attrs.get('transB')?.i) !== 0;
        let weights = constMatrix(b, b.dims[0], b.dims[1]);
        if (!transB) weights = transpose(weights);
        if (alpha !== 1) weights = weights.map((row) => row.map((w) => alpha * w));
        let bias = new Array<number>(weights.length).fill(0);
        if ((node.input ?? []).length > 2 && node.input![2]) {
          const c = input(2);
          if (c.kind !== 'const' || (c.data.length !== weights.length && c.data.length !== 1))
            return unsupported('adds a bias that is not a constant vector of the output width');
          bias = bias.map((_, k) => beta * c.data[c.data.length === 1 ? 0 : k]);
        }
        output(affineAfter(a, weights, bias));
        return;
      }
      case 'MatMul': {
        const a = net(input(0));
        const b = input(1);
        if (b.kind !== 'const' || b.dims.length !== 2) return unsupported('multiplies by something that is not a constant matrix');
        // MatMul computes x B with B stored D × K (PyTorch writes Wᵀ).
        output(affineAfter(a, transpose(constMatrix(b, b.dims[0], b.dims[1])), new Array<number>(b.dims[1]).fill(0)));
        return;
      }
      case 'Add': {
        const [first, second] = [input(0), input(1)];
        if (first.kind === 'net' && second.kind === 'net') {
          // The global linear skip: one side is an affine map of the raw input alone.
          const [main, skip] = second.layers.length === 0 && second.pending && !second.skip ? [first, second] : [second, first];
          if (skip.kind !== 'net' || skip.layers.length !== 0 || !skip.pending || main.kind !== 'net' || main.skip)
            return unsupported('adds two computed values, neither an affine map of the input alone (a skip)');
          if (main.width !== skip.width) return unsupported('adds values of different widths');
          const layers = main.pending ? [...main.layers, { ...main.pending, activation: 'linear' as NetworkActivation }] : main.layers;
          output({ kind: 'net', layers, width: main.width, skip: skip.pending });
          return;
        }
        const [n, c] = first.kind === 'net' ? [first, second] : [second, first];
        if (n.kind !== 'net' || c.kind !== 'const') return unsupported('adds constants only');
        if (!n.pending || n.skip) return unsupported('adds a bias where no Gemm or MatMul precedes it');
        if (c.data.length !== n.width && c.data.length !== 1) return unsupported(`adds ${c.data.length} values to ${n.width} features`);
        const bias = n.pending.bias.map((b, k) => b + c.data[c.data.length === 1 ? 0 : k]);
        output({ ...n, pending: { weights: n.pending.weights, bias } });
        return;
      }
      default: {
        const activation = NETWORK_ACTIVATIONS.find((a) => ACTIVATIONS[a].onnxOp === (op as OnnxActivationOp));
        if (!activation) return unsupported('is not supported');
        const n = net(input(0));
        if (!n.pending || n.skip) return unsupported('applies an activation where no Gemm or MatMul precedes it');
        const layer: NetworkLayer = { ...n.pending, activation };
        if (activation === 'leaky_relu') layer.alpha = Math.fround(attrs.get('alpha')?.f ?? 0.01);
        output({ kind: 'net', layers: [...n.layers, layer], width: n.width });
      }
    }
  });
  const outputs = graph.output ?? [];
  if (outputs.length !== 1) throw new Error(`${file}: the graph has ${outputs.length} outputs; a plain MLP has one`);
  const result = values.get(outputs[0].name ?? '');
  if (!result || result.kind !== 'net' || (result.layers.length === 0 && !result.pending))
    throw new Error(`${file}: output '${outputs[0].name}' is not computed from the input by Gemm/MatMul layers. ${SUPPORTED}.`);
  const layers = [...result.layers];
  if (result.pending) layers.push({ ...result.pending, activation: 'linear' });
  else if (layers[layers.length - 1].activation !== 'linear') {
    // A network ending in an activation gets an identity output layer: the format's last layer is linear.
    const width = result.width;
    layers.push({
      weights: Array.from({ length: width }, (_, i) => Array.from({ length: width }, (_, j) => (i === j ? 1 : 0))),
      bias: new Array<number>(width).fill(0),
      activation: 'linear',
    });
  }
  const network: FoldedNetwork = { format: 'police-network/1', input_dim: inputDim, output_dim: result.width, layers };
  if (result.skip) network.skip = result.skip;
  return network;
}

/** The ONNX model's metadata properties (police.* keys of an exported model), for tests and reports. */
export function onnxMetadata(bytes: Uint8Array): Record<string, string> {
  const model = onnx.ModelProto.decode(bytes);
  return Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
}
