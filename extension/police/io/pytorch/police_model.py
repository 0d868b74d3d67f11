"""The POLICE network of one spec in PyTorch, written by POLICE Studio (`police export SPEC RUN --format pytorch`).

Mirrors the engine exactly: the bias shift of extension/police/training/police-layer.ts (rules 'fixed',
'majority', 'minimal', the margin, several regions), the forward of training/model.ts (vertices concatenated
to the batch, the exact Eq. 1/Eq. 2 skip of the first jacobian/affine_map region, penalties for the others)
and the folding of training/fold.ts (b <- b + c in float32, the skip in float64 by least squares).
Needs only torch (and numpy, which torch uses to write files).
"""
import json
import struct
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

# The activation table, generated from POLICE Studio's extension/police/spec/activations.ts (its `pytorch` forms).
ACTIVATIONS = {
    # @POLICE_ACTIVATIONS@
}

_DTYPES = {"F32": torch.float32, "F64": torch.float64}


def load_safetensors(path):
    """Reads a safetensors file: ({name: tensor}, metadata). F32 and F64 tensors only."""
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length].decode("utf8"))
    metadata = header.pop("__metadata__", {}) or {}
    base = 8 + length
    tensors = OrderedDict()
    for name, entry in header.items():
        if entry["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: tensor {name} has dtype {entry['dtype']}; expected F32 or F64")
        begin, end = entry["data_offsets"]
        dtype = _DTYPES[entry["dtype"]]
        flat = torch.frombuffer(bytearray(raw[base + begin : base + end]), dtype=dtype) if end > begin else torch.zeros(0, dtype=dtype)
        tensors[name] = flat.reshape(entry["shape"]).clone()
    return tensors, metadata


def save_safetensors(path, tensors, metadata=None):
    """Writes {name: float32/float64 tensor} as safetensors, buffers 8-byte aligned, metadata as strings."""
    header = {}
    if metadata:
        header["__metadata__"] = {key: str(value) for key, value in metadata.items()}
    blobs = []
    offset = 0
    for name, tensor in tensors.items():
        tensor = tensor.detach().cpu().contiguous()
        dtype = {torch.float32: "F32", torch.float64: "F64"}[tensor.dtype]
        blob = tensor.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf8")
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def compute_shift(h, region_sizes, rule, margin, kept=None):
    """The shift c per unit from the vertex pre-activations h (P x K), as computeShift in police-layer.ts.

    Returns c (float32, K), differentiable through the one vertex each unit's shift depends on
    (dc_k / dh[p*_k, k] = -1, the engine's custom gradient). `kept` (regions x K, int8) holds the
    'fixed' rule's sides: voted on the first call, updated in place when the regions force a change.
    """
    units = h.shape[1]
    hv = h.detach()
    hd = hv.to(torch.float64)
    device = h.device
    row = torch.full((units,), -1, dtype=torch.long, device=device)
    offset = torch.zeros(units, dtype=torch.float64, device=device)
    regions = len(region_sizes)
    if hd.shape[0] == 0:
        return torch.zeros(units, dtype=h.dtype, device=device)
    if rule == "majority" and regions == 1:
        positives = (hv > 0).sum(0)
        side = torch.where(positives >= hd.shape[0] / 2, 1.0, -1.0).to(torch.float64)
        deficit = margin - hd * side
        worst, worst_row = deficit.max(0)
        row = torch.where(worst > 0, worst_row, row)
        offset = side * margin
    else:
        bounds = [0]
        for size in region_sizes:
            bounds.append(bounds[-1] + size)
        lo, hi, lo_row, hi_row, positives = [], [], [], [], []
        for r in range(regions):
            block = hd[bounds[r] : bounds[r + 1]]
            value, index = block.min(0)
            lo.append(value)
            lo_row.append(index + bounds[r])
            value, index = block.max(0)
            hi.append(value)
            hi_row.append(index + bounds[r])
            positives.append((hv[bounds[r] : bounds[r + 1]] > 0).sum(0))

        def allowed(c):
            ok = torch.ones(units, dtype=torch.bool, device=device)
            for r in range(regions):
                ok &= ~((c > -hi[r] - margin) & (c < -lo[r] + margin))
            return ok

        def read_sides(c):
            return torch.stack([torch.where((lo[r] + hi[r]) / 2 + c > 0, 1, -1) for r in range(regions)]).to(torch.int8)

        decided = torch.zeros(units, dtype=torch.bool, device=device)
        if kept is not None:
            unset = kept[0] == 0
            vote = torch.stack([torch.where(positives[r] >= region_sizes[r] / 2, 1, -1) for r in range(regions)]).to(torch.int8)
            kept[:, unset] = vote[:, unset]
            lower = torch.full((units,), -float("inf"), dtype=torch.float64, device=device)
            upper = torch.full((units,), float("inf"), dtype=torch.float64, device=device)
            lower_row = torch.full((units,), -1, dtype=torch.long, device=device)
            upper_row = torch.full((units,), -1, dtype=torch.long, device=device)
            for r in range(regions):
                candidate = -lo[r] + margin
                take = (kept[r] > 0) & (candidate > lower)
                lower = torch.where(take, candidate, lower)
                lower_row = torch.where(take, lo_row[r], lower_row)
                candidate = -hi[r] - margin
                take = (kept[r] < 0) & (candidate < upper)
                upper = torch.where(take, candidate, upper)
                upper_row = torch.where(take, hi_row[r], upper_row)
            decided = lower <= upper
            up = decided & (lower > 0)
            down = decided & ~up & (upper < 0)
            row = torch.where(up, lower_row, torch.where(down, upper_row, row))
            offset = torch.where(up, margin, torch.where(down, -margin, 0.0)).to(torch.float64)
        zero = torch.zeros(units, dtype=torch.float64, device=device)
        free = ~decided & allowed(zero)
        best = torch.full((units,), float("inf"), dtype=torch.float64, device=device)
        best_row = torch.full((units,), -1, dtype=torch.long, device=device)
        best_offset = torch.zeros(units, dtype=torch.float64, device=device)
        for r in range(regions):
            for candidate, candidate_row, sign in ((-hi[r] - margin, hi_row[r], -1.0), (-lo[r] + margin, lo_row[r], 1.0)):
                take = (candidate.abs() < best.abs()) & allowed(candidate)
                best = torch.where(take, candidate, best)
                best_row = torch.where(take, candidate_row, best_row)
                best_offset = torch.where(take, sign * margin, best_offset)
        moved = ~decided & ~free
        row = torch.where(moved, best_row, row)
        offset = torch.where(moved, best_offset, offset)
        if kept is not None:
            sides = torch.where(free.unsqueeze(0), read_sides(zero), read_sides(torch.where(moved, best, zero)))
            changed = free | moved
            kept[:, changed] = sides[:, changed]
    shifted = row >= 0
    picked = h.gather(0, row.clamp(min=0).unsqueeze(0)).squeeze(0)
    # c = offset - h[p*, k], in float64 then rounded to float32, as the engine stores it.
    return torch.where(shifted, (offset - picked.to(torch.float64)).to(h.dtype), torch.zeros_like(picked))


class Dense(nn.Module):
    """One dense layer: weight (fan_out x fan_in, as nn.Linear), bias, and beta per unit for swish/softplus."""

    def __init__(self, fan_in, fan_out, activation="linear", alpha=0.0, beta=1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(fan_out, fan_in))
        self.bias = nn.Parameter(torch.zeros(fan_out))
        self.activation = activation
        self.alpha = float(alpha)
        self.register_buffer("beta", torch.full((fan_out,), float(beta)))

    def act(self, z):
        return ACTIVATIONS[self.activation](z, self.alpha, self.beta.to(z.dtype))


class PoliceMLP(nn.Module):
    """The spec's MLP with POLICE, built from police_config.json; state dict names match weights.safetensors."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        widths = [config["input_dim"]] + [layer["units"] for layer in config["layers"]]
        self.hidden = nn.ModuleList(
            Dense(widths[i], widths[i + 1], layer["activation"], layer.get("alpha", 0.0), layer.get("beta", 1.0))
            for i, layer in enumerate(config["layers"])
        )
        self.output = Dense(widths[-1], config["output_units"])
        police = config.get("police")
        self.police = police
        if police:
            self.register_buffer("vertices", torch.tensor(police["vertices"], dtype=torch.float32).reshape(-1, config["input_dim"]))
            self.region_sizes = police["region_sizes"]
            # The 'fixed' rule's kept sides per hidden layer (regions x units), voted on the first vertex pass.
            self.kept = [torch.zeros(len(self.region_sizes), layer["units"], dtype=torch.int8) for layer in config["layers"]]
            exact = police.get("exact")
            if exact:
                self.register_buffer("pinv", torch.tensor(exact["pinv"], dtype=torch.float32))
                self.register_buffer("skip_a", torch.tensor(exact["A"], dtype=torch.float32).t().contiguous())
                self.register_buffer("skip_b", torch.tensor([exact["b"]], dtype=torch.float32))
            for i, term in enumerate(police["penalties"]):
                self.register_buffer(f"penalty_target_{i}", torch.tensor(term["target"], dtype=torch.float32))

    def load_tensors(self, tensors):
        """Copies hidden.<i>.weight/bias/beta and output.weight/bias from a {name: tensor} dict (a skip, if any, is ignored: it is recomputed)."""
        own = dict(self.named_parameters())
        own.update(dict(self.named_buffers()))
        for name, target in own.items():
            if name in tensors:
                if tuple(tensors[name].shape) != tuple(target.shape):
                    raise ValueError(f"{name} has shape {tuple(tensors[name].shape)}, the module expects {tuple(target.shape)}")
                with torch.no_grad():
                    target.copy_(tensors[name])
            elif name.endswith(".weight") or name.endswith(".bias"):
                raise KeyError(f"no tensor named {name}")

    def plain(self, x):
        """The network without POLICE (no vertex pass, no shift, no skip)."""
        h = x
        for layer in self.hidden:
            h = layer.act(F.linear(h, layer.weight, layer.bias))
        return F.linear(h, self.output.weight, self.output.bias)

    def _shifted_pass(self, h, batch_rows, on_shift=None):
        police = self.police
        for i, layer in enumerate(self.hidden):
            z = F.linear(h, layer.weight, layer.bias)
            kept = self.kept[i].to(z.device) if police["rule"] == "fixed" else None
            c = compute_shift(z[batch_rows:], self.region_sizes, police["rule"], police["margin"], kept)
            if kept is not None:
                self.kept[i] = kept.cpu()
            if on_shift:
                on_shift(i, c.detach())
            h = layer.act(z + c)
        return F.linear(h, self.output.weight, self.output.bias)

    def forward(self, x):
        """POLICE forward: (outputs for the batch, penalty of the further jacobian/affine_map regions, 0 when none)."""
        if not self.police:
            return self.plain(x), torch.zeros((), device=x.device)
        n = x.shape[0]
        z = self._shifted_pass(torch.cat([x, self.vertices], 0), n)
        output, vertex_outputs = z[:n], z[n:]
        exact = self.police.get("exact")
        if exact:
            theta = self.pinv @ vertex_outputs[exact["offset"] : exact["offset"] + exact["count"]]
            d = self.config["input_dim"]
            w = self.skip_a - theta[:d]
            b = self.skip_b - theta[d : d + 1] if exact["kind"] == "affine_map" else torch.zeros_like(self.skip_b)
            output = output + (x @ w + b)
            vertex_outputs = vertex_outputs + (self.vertices @ w + b)
        penalty = torch.zeros((), device=x.device)
        for i, term in enumerate(self.police["penalties"]):
            fv = vertex_outputs[term["offset"] : term["offset"] + term["count"]]
            got = fv if term["kind"] == "affine_map" else fv[1:] - fv[:1]
            penalty = penalty + ((got - getattr(self, f"penalty_target_{i}")) ** 2).mean()
        return output, penalty

    @torch.no_grad()
    def fold(self):
        """The folded network as {name: tensor} (float32 layers, float64 skip) and its safetensors metadata."""
        shifts = {}
        if self.police:
            self._shifted_pass(self.vertices, 0, lambda i, c: shifts.__setitem__(i, c))
        tensors = OrderedDict()
        layers = []
        for i, layer in enumerate(self.hidden):
            tensors[f"hidden.{i}.weight"] = layer.weight.detach().float().cpu().clone()
            bias = layer.bias.detach().float().cpu()
            tensors[f"hidden.{i}.bias"] = bias + shifts[i].cpu() if i in shifts else bias.clone()
            if layer.activation in ("swish", "softplus"):
                tensors[f"hidden.{i}.beta"] = layer.beta.detach().float().cpu().clone()
            layers.append({"activation": layer.activation, "alpha": layer.alpha} if layer.activation == "leaky_relu" else {"activation": layer.activation})
        tensors["output.weight"] = self.output.weight.detach().float().cpu().clone()
        tensors["output.bias"] = self.output.bias.detach().float().cpu().clone()
        exact = self.police.get("exact") if self.police else None
        if exact:
            vertices = torch.tensor(self.police["vertices"], dtype=torch.float64)[exact["offset"] : exact["offset"] + exact["count"]]
            outputs = folded_forward(tensors, layers, vertices)
            theta = torch.tensor(exact["pinv"], dtype=torch.float64) @ outputs
            d = self.config["input_dim"]
            tensors["skip.weight"] = torch.tensor(exact["A"], dtype=torch.float64) - theta[:d].t()
            b = torch.tensor(exact["b"], dtype=torch.float64)
            tensors["skip.bias"] = b - theta[d] if exact["kind"] == "affine_map" else torch.zeros_like(b)
        metadata = {"format": "pt", "police.spec": self.config["spec"], "police.layers": json.dumps(layers)}
        return tensors, metadata


def folded_forward(tensors, layers, x):
    """The folded network in float64 (network.ts's forward): hidden layers, the linear output layer, then the skip."""
    h = x.to(torch.float64)
    for i, layer in enumerate(layers):
        z = h @ tensors[f"hidden.{i}.weight"].to(torch.float64).t() + tensors[f"hidden.{i}.bias"].to(torch.float64)
        beta = tensors.get(f"hidden.{i}.beta", torch.ones(z.shape[1])).to(torch.float64)
        h = ACTIVATIONS[layer["activation"]](z, layer.get("alpha", 0.0), beta)
    out = h @ tensors["output.weight"].to(torch.float64).t() + tensors["output.bias"].to(torch.float64)
    if "skip.weight" in tensors:
        out = out + x.to(torch.float64) @ tensors["skip.weight"].to(torch.float64).t() + tensors["skip.bias"].to(torch.float64)
    return out
