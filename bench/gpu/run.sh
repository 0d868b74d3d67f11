#!/usr/bin/env bash
# Runs on the GPU machine from the repository root: `bash .gpu/run.sh` (carry .gpu, and .gl when its Vulkan loader is missing).
# Prints `police bench` on webgpu and wasm for (784, 8, 1024) and the fig1/fig2 shapes, then trains fig1 on webgpu and
# prints its certificate verdict. QUICK=1 runs tiny rows only (to test the script itself on SwiftShader).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ -d .gl ]; then
  # Debian's libvulkan1 (and friends), unpacked over / : the GPU machine may lack the Vulkan loader.
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
if [ -z "${VK_ICD_FILENAMES:-}" ] && [ -z "${VK_DRIVER_FILES:-}" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
node="$here/node"
[ -x "$node" ] || { xz -dc "$here/node.xz" >"$node" && chmod +x "$node"; }
app="$here/app"
dawn="$app/node_modules/webgpu/dist/linux-x64/dawn.node"
[ -f "$dawn" ] || xz -dc "$dawn.xz" >"$dawn"
cli="$app/dist/cli.js"
out="${OUT:-/tmp/police-gpu}"
mkdir -p "$out"
echo "== node $("$node" -v), vulkan: $(ldconfig -p | grep -c libvulkan) loader(s), ICD ${VK_DRIVER_FILES:-${VK_ICD_FILENAMES:-default}}"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
if [ "${QUICK:-0}" = 1 ]; then rows=("2,2,64"); steps=3; limit=900; else limit=300; rows=("784,8,1024" "784,2,1024" "2,3,256" "2,4,128"); steps=800; fi
for row in "${rows[@]}"; do
  for backend in webgpu wasm; do
    echo "== police bench --backend $backend --only $row"
    timeout "$limit" "$node" "$cli" bench --backend "$backend" --only "$row" --quick 2>&1 | grep -v XDG_RUNTIME_DIR
  done
done
for spec in fig1-moons-classification fig2-wave-triangle; do
  for backend in webgpu wasm; do
    [ "$spec" = fig2-wave-triangle ] && [ "${QUICK:-0}" = 1 ] && continue
    echo "== police train $spec --backend $backend --steps $steps"
    rm -rf "$out/$spec-$backend"
    timeout "$limit" "$node" "$cli" train "$app/examples/$spec.police.json" --out "$out/$spec-$backend" --backend "$backend" --steps "$steps" --json \
      2> >(grep -v 'XDG_RUNTIME_DIR\|^step ' >&2) | "$node" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{if(!s.trim()){console.log("no result (stopped or failed, see above)");return}const r=JSON.parse(s);console.log(`${r.backend}: ${r.steps} steps in ${(r.elapsedMs/1000).toFixed(1)} s (${(r.elapsedMs/r.steps).toFixed(1)} ms/step), loss ${r.finalLoss.toPrecision(4)}, certificate: ${r.proved?"PROVED":"NOT proved"} (${r.regions.map(g=>g.name+" "+g.status).join(", ")})`)})'
  done
done
