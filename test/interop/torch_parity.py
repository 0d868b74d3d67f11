"""For each case folder (a `police export --format pytorch` folder plus the engine's expected.safetensors and
folded.safetensors): the generated PoliceMLP's POLICE forward on the first rows of data.safetensors and its fold,
compared with the engine's. Prints one JSON line per case: max |torch - engine| / max(|engine|, 1)."""
import importlib.util
import json
import sys

import torch


def load_module(folder, index):
    spec = importlib.util.spec_from_file_location(f"police_model_{index}", f"{folder}/police_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rel(a, b):
    a, b = a.to(torch.float64), b.to(torch.float64)
    return ((a - b).abs() / b.abs().clamp(min=1)).max().item() if a.numel() else 0.0


for index, folder in enumerate(sys.argv[1:]):
    pm = load_module(folder, index)
    with open(f"{folder}/police_config.json", encoding="utf8") as f:
        config = json.load(f)
    model = pm.PoliceMLP(config)
    model.load_tensors(pm.load_safetensors(f"{folder}/initial.safetensors")[0])
    expected, _ = pm.load_safetensors(f"{folder}/expected.safetensors")
    x = pm.load_safetensors(f"{folder}/data.safetensors")[0]["x"][: expected["output"].shape[0]]
    output, penalty = model(x)
    folded, _ = model.fold()
    engine_folded, _ = pm.load_safetensors(f"{folder}/folded.safetensors")
    fold = max(rel(folded[name], engine_folded[name]) for name in engine_folded)
    # The engine leaves β out when it is 1 everywhere; the module always writes it.
    missing = sorted(n for n in set(engine_folded) ^ set(folded) if not (n.endswith(".beta") and bool((folded.get(n, engine_folded.get(n)) == 1).all())))
    print(json.dumps({"case": folder, "forward": rel(output.detach(), expected["output"]), "penalty": rel(penalty.detach().reshape(1), expected["penalty"]), "fold": fold, "missing": missing}), flush=True)
