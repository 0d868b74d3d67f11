"""Writes plain MLPs with torch.onnx.export, as a user would: nn.Sequential of Flatten/Linear/ReLU/LeakyReLU (Gemm nodes)
and a module computing x @ W + b with torch.abs (MatMul + Add + Abs). Usage: torch_onnx_export.py OUT_DIR"""
import sys

import torch
import torch.nn as nn

torch.manual_seed(7)
out = sys.argv[1]

sequential = nn.Sequential(nn.Flatten(), nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))


class MatMulAbs(nn.Module):
    def __init__(self):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(2, 12))
        self.b1 = nn.Parameter(torch.randn(12))
        self.w2 = nn.Parameter(torch.randn(12, 1))
        self.b2 = nn.Parameter(torch.randn(1))

    def forward(self, x):
        return torch.abs(x @ self.w1 + self.b1) @ self.w2 + self.b2


for name, model in (("sequential", sequential), ("matmul-abs", MatMulAbs())):
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 2), f"{out}/{name}.onnx", input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
