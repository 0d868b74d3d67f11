// One esbuild entry per process: extension host, trainer child, CLI, webview.
import * as esbuild from 'esbuild';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { editorSchema } from './schemas/editor-schema.mjs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const watch = process.argv.includes('--watch');
const outdir = 'dist';
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });

// Native addons must never be bundled: they are loaded at run time when the user has them.
const nodeExternals = ['vscode', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'webgpu', 'onnxruntime-node'];

const nodeCommon = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  external: nodeExternals,
  // ESM entries first: jsonc-parser's UMD 'main' hides its requires from esbuild ('./impl/format' missing at run time).
  mainFields: ['module', 'main'],
  logLevel: 'warning',
};

const builds = [
  { ...nodeCommon, entryPoints: ['extension/host/extension.ts'], outfile: join(outdir, 'extension.js') },
  { ...nodeCommon, entryPoints: ['extension/trainer/main.ts'], outfile: join(outdir, 'trainer.js') },
  // The view's partition/surface worker thread, so the extension host never computes them itself.
  { ...nodeCommon, entryPoints: ['extension/host/view/partition-worker.ts'], outfile: join(outdir, 'partition-worker.js') },
  // Spec validation off the extension host's thread: a hostile spec must never block the editor.
  { ...nodeCommon, entryPoints: ['extension/host/spec-validation-worker.ts'], outfile: join(outdir, 'spec-validation-worker.js') },
  {
    ...nodeCommon,
    entryPoints: ['extension/cli/main.ts'],
    outfile: join(outdir, 'cli.js'),
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    sourcemap: true,
    entryPoints: ['webview/main.ts'],
    outfile: join(outdir, 'webview.js'),
    logLevel: 'warning',
  },
];

// The JSON language server's schema: completion and hover only; POLICE's diagnostics validate (schemas/editor-schema.mjs).
const fullSchema = JSON.parse(readFileSync('schemas/police.schema.json', 'utf8'));
const editorSnippets = JSON.parse(readFileSync('schemas/editor-snippets.json', 'utf8'));
writeFileSync(join(outdir, 'police-editor.schema.json'), JSON.stringify(editorSchema(fullSchema, editorSnippets), null, 2));

// The wasm backend loads its binaries from next to the bundle.
const wasmDir = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
for (const file of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'))) {
  copyFileSync(join(wasmDir, file), join(outdir, file));
}

// The threaded wasm build's pthread worker and the glue it loads, as files: Node's Worker cannot start the blob: URLs tfjs makes (training/wasm-threads.ts).
const wasmOut = 'node_modules/@tensorflow/tfjs-backend-wasm/wasm-out';
const { wasmWorkerContents } = createRequire(import.meta.url)(`./${wasmOut}/tfjs-backend-wasm-threaded-simd.worker.js`);
// Its newlines sit inside string literals: escaped, as tfjs does for its Blob.
writeFileSync(join(outdir, 'tfjs-backend-wasm-threaded-simd.worker.js'), wasmWorkerContents.replace(/\n/g, '\\n'));
copyFileSync(join(wasmOut, 'tfjs-backend-wasm-threaded-simd.js'), join(outdir, 'tfjs-backend-wasm-threaded-simd.js'));

// The PyTorch export's Python templates are read at run time from dist/pytorch (io/pytorch-folder.ts).
const pytorchDir = 'extension/police/io/pytorch';
mkdirSync(join(outdir, 'pytorch'), { recursive: true });
for (const file of readdirSync(pytorchDir).filter((f) => f.endsWith('.py'))) {
  copyFileSync(join(pytorchDir, file), join(outdir, 'pytorch', file));
}

const ONNX_RUNTIME_LICENSE = `MIT License

Copyright (c) Microsoft Corporation

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
`;

// ONNX Runtime for wasm's matmuls (training/wasm-matmul.ts), for one platform (`--target`, vsce's name, default this
// machine's): its JS, its dependency onnxruntime-common, and that platform's binaries only (46–87 MB each, all five 294 MB).
const targetArg = process.argv.indexOf('--target');
const target = targetArg >= 0 ? process.argv[targetArg + 1] : `${process.platform}-${process.arch}`;
const [targetPlatform, targetArch] = target.split('-');
const ortPackage = 'node_modules/onnxruntime-node';
const ortBinaries = join(ortPackage, 'bin', 'napi-v6', targetPlatform, targetArch ?? '');
if (existsSync(ortBinaries)) {
  const staged = join(outdir, 'onnxruntime-node');
  const copyParts = (from, to, parts) => {
    for (const part of parts) if (existsSync(join(from, part))) cpSync(join(from, part), join(to, part), { recursive: true });
  };
  copyParts(ortPackage, staged, ['package.json', 'README.md', 'dist']);
  // Not the CPU-unused GPU providers a postinstall may add, nor macOS's second, versioned copy of the library (the binding links libonnxruntime.1.dylib).
  const unused = /providers_|\.\d+\.\d+\.\d+\.dylib$/;
  cpSync(ortBinaries, join(staged, 'bin', 'napi-v6', targetPlatform, targetArch), {
    recursive: true,
    filter: (source) => !unused.test(source),
  });
  // The packages ship no LICENSE file: their package.json names MIT; the VSIX carries the licence text with the binaries.
  writeFileSync(join(staged, 'LICENSE'), ONNX_RUNTIME_LICENSE);
  copyParts('node_modules/onnxruntime-common', join(staged, 'node_modules', 'onnxruntime-common'), [
    'package.json',
    'README.md',
    'dist/cjs',
  ]);
} else {
  console.warn(`build: no ONNX Runtime binaries for ${target} in ${ortPackage}; wasm's matmuls will run on XNNPACK`);
}

if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
