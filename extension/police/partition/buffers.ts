// Growable typed arrays and the cell list the splitter fills layer by layer.

/** A growable Float64Array. */
export class F64 {
  data: Float64Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Float64Array(capacity);
  }
  reserve(extra: number): void {
    if (this.length + extra <= this.data.length) return;
    const next = new Float64Array(Math.max(this.data.length * 2, this.length + extra));
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
  push1(a: number): void {
    this.reserve(1);
    this.data[this.length++] = a;
  }
  push2(a: number, b: number): void {
    this.reserve(2);
    this.data[this.length++] = a;
    this.data[this.length++] = b;
  }
}

/** A growable Uint32Array. */
export class U32 {
  data: Uint32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Uint32Array(capacity);
  }
  reserve(extra: number): void {
    if (this.length + extra <= this.data.length) return;
    const next = new Uint32Array(Math.max(this.data.length * 2, this.length + extra));
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
  push(v: number): void {
    this.reserve(1);
    this.data[this.length++] = v;
  }
}

/** Cells of one stage: polygons and patterns (bits of the layers split so far). */
export interface CellList {
  coords: F64;
  /** Start of each cell in vertices (not coordinates), plus a final end. */
  starts: U32;
  patterns: U32;
}

export function newCellList(expectedCells = 256, words = 1): CellList {
  const starts = new U32(expectedCells + 1);
  starts.push(0);
  return { coords: new F64(expectedCells * 10), starts, patterns: new U32(expectedCells * words) };
}
