"""Trains the spec's POLICE network with DistributedDataParallel; written by POLICE Studio.

    torchrun --nproc_per_node=N train.py [--steps S] [--out weights.safetensors]

gloo on CPU, nccl when CUDA is present. Every rank draws the same global batch (same seed) and takes its
share of the rows; DDP averages the gradients, so N processes train like one process on the whole batch.
Every rank runs the vertex pass (the shift must see every vertex). Rank 0 folds the network and writes it;
`police import SPEC weights.safetensors --out RUN` then certifies it.
"""
import argparse
import json
import os
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

from police_model import PoliceMLP, load_safetensors, save_safetensors

HERE = os.path.dirname(os.path.abspath(__file__))


def optimizer_for(model, training):
    kernels = [layer.weight for layer in list(model.hidden) + [model.output]]
    biases = [layer.bias for layer in list(model.hidden) + [model.output]]
    lr = training["lr"]
    if training["optimizer"] == "sgd":
        return torch.optim.SGD(kernels + biases, lr=lr)
    if training["optimizer"] == "adam":
        return torch.optim.Adam(kernels + biases, lr=lr, betas=(0.9, 0.999), eps=1e-8)
    # AdamW: decoupled decay on the kernels only, as the engine's optimizer.
    groups = [{"params": kernels, "weight_decay": training["weight_decay"]}, {"params": biases, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=os.path.join(HERE, "police_config.json"))
    parser.add_argument("--data", default=os.path.join(HERE, "data.safetensors"))
    parser.add_argument("--init", default=os.path.join(HERE, "initial.safetensors"), help="starting weights (the engine's initialisation)")
    parser.add_argument("--out", default=os.path.join(HERE, "weights.safetensors"))
    parser.add_argument("--metrics", default=os.path.join(HERE, "metrics.jsonl"))
    parser.add_argument("--steps", type=int, default=None, help="default: the spec's training.steps")
    parser.add_argument("--log-every", type=int, default=None)
    args = parser.parse_args()

    use_cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if use_cuda else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0))) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(device)

    with open(args.config, encoding="utf8") as f:
        config = json.load(f)
    training = config["training"]
    steps = args.steps if args.steps is not None else training["steps"]
    log_every = args.log_every or max(1, round(steps / 200))
    if rank == 0:
        for note in config.get("notes", []):
            print(f"note: {note}", flush=True)

    model = PoliceMLP(config)
    model.load_tensors(load_safetensors(args.init)[0])
    model.to(device)
    ddp = DistributedDataParallel(model, device_ids=[device.index] if use_cuda else None, broadcast_buffers=False)
    optimizer = optimizer_for(model, training)

    data, _ = load_safetensors(args.data)
    x, y = data["x"].to(device), data["y"].to(device)
    count = x.shape[0]
    classification = config["task"] == "classification"
    generator = torch.Generator().manual_seed(training["seed"])
    order = torch.randperm(count, generator=generator)
    cursor = 0
    rows = min(training["batch"], count)
    started = time.time()
    metrics = open(args.metrics, "w", encoding="utf8") if rank == 0 else None
    for step in range(1, steps + 1):
        if cursor + rows > count:
            order = torch.randperm(count, generator=generator)
            cursor = 0
        mine = order[cursor : cursor + rows][rank::world].to(device)
        cursor += rows
        output, penalty = ddp(x[mine])
        target = y[mine]
        if classification:
            loss = -(target * F.log_softmax(output, dim=1)).sum(1).mean()
        else:
            loss = F.mse_loss(output, target)
        total = loss + penalty
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        if step % log_every == 0 or step == steps:
            value = total.detach().clone()
            dist.all_reduce(value)
            if metrics:
                line = {"step": step, "loss": value.item() / world, "elapsed_ms": round((time.time() - started) * 1000)}
                metrics.write(json.dumps(line) + "\n")
                print(json.dumps(line), flush=True)
    if rank == 0:
        metrics.close()
        tensors, metadata = model.fold()
        save_safetensors(args.out, tensors, metadata)
        print(f"wrote {args.out} ({steps} steps on {world} process(es), {time.time() - started:.1f} s)", flush=True)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
