#!/usr/bin/env bash
# Builds .gpu/ (≤ 64 MiB) for bench/gpu/run.sh on a machine with a GPU but no network and no Node.js:
# this machine's node binary (xz), the CLI bundle (tfjs-backend-webgpu is bundled into it) and its wasm files, and
# the linux-x64 parts of the optional 'webgpu' package (Dawn) only. The lead adds `/.gpu/` to .git/info/exclude once.
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run build >/dev/null
rm -rf .gpu && mkdir -p .gpu/app/node_modules/webgpu/dist
xz -T0 -6 -c "$(command -v node)" >.gpu/node.xz
# Only what the CLI needs: its bundle and the wasm binaries (no source maps, no extension or webview bundles).
mkdir -p .gpu/app/dist && cp dist/cli.js dist/*.wasm .gpu/app/dist/
cp package.json .gpu/app/
cp -r examples .gpu/app/examples
# The 'webgpu' package: its loader, its two pure-JS dependencies, and Dawn for linux-x64 only (the other platforms' ~110 MB stay here).
w=node_modules/webgpu
cp "$w/package.json" "$w/index.js" .gpu/app/node_modules/webgpu/
mkdir -p .gpu/app/node_modules/webgpu/dist/linux-x64
xz -T0 -6 -c "$w/dist/linux-x64/dawn.node" >.gpu/app/node_modules/webgpu/dist/linux-x64/dawn.node.xz

cp bench/gpu/run.sh .gpu/
du -sh .gpu
size=$(du -sm .gpu | cut -f1)
if [ "$size" -gt 60 ]; then echo "pack.sh: .gpu/ is ${size} MiB, over the 64 MiB that travel" >&2; exit 1; fi
