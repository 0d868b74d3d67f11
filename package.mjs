// `npm run package [-- --target T]`: the VSIX for one platform (vsce's target names, default this machine's), carrying that
// platform's ONNX Runtime for wasm's matmuls (build.mjs stages it); a platform without ONNX Runtime binaries gets XNNPACK's.
import { execFileSync } from 'node:child_process';

const targetArg = process.argv.indexOf('--target');
const target = targetArg >= 0 ? process.argv[targetArg + 1] : `${process.platform}-${process.arch}`;
const node = (args) => execFileSync(process.execPath, args, { stdio: 'inherit' });
node(['build.mjs', '--target', target]);
node(['node_modules/@vscode/vsce/vsce', 'package', '--no-dependencies', '--target', target, '-o', 'dist/police-studio.vsix']);
