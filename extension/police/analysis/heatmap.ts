// The Gram/cosine heat-map as a small PNG (for the Markdown report beside the view), encoded with node:zlib.
import { deflateSync } from 'node:zlib';
import type { Matrix } from '../spec/types';

/** Diverging map for values in [−1, 1]: blue (−1), white (0), red (+1). */
export function divergingColor(value: number): [number, number, number] {
  const t = Math.max(-1, Math.min(1, Number.isFinite(value) ? value : 0));
  const fade = (c: number) => Math.round(255 - (255 - c) * Math.abs(t));
  return t >= 0 ? [fade(200), fade(40), fade(40)] : [fade(40), fade(80), fade(200)];
}

/** RGB PNG of the matrix, each entry a square of `cell` pixels (nearest-neighbour, so cells stay sharp). */
export function heatmapPng(values: Matrix, cell = Math.max(4, Math.floor(256 / Math.max(1, values.length)))): Uint8Array {
  const rows = values.length;
  const cols = rows ? values[0].length : 0;
  const width = Math.max(1, cols * cell);
  const height = Math.max(1, rows * cell);
  const stride = 1 + width * 3;
  const raw = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    raw[y * stride] = 0; // filter: none
    const row = values[Math.floor(y / cell)];
    for (let x = 0; x < width; x++) {
      const [r, g, b] = row ? divergingColor(row[Math.floor(x / cell)]) : [255, 255, 255];
      const at = y * stride + 1 + x * 3;
      raw[at] = r;
      raw[at + 1] = g;
      raw[at + 2] = b;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length, 0);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body), 0);
  return Buffer.concat([length, body, crc]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
