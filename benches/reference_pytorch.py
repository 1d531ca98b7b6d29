"""PyTorch reference for benches/train_step.rs: the same LeNet and MLP 784-128-10, batch 64,
forward + backward + Adam, median over 300 steps after 30 warm-up steps, on the CPU with
torch.set_num_threads(THREADS). Prints lines in the same format as the Rust benchmark."""
import os
import time

import torch
import torch.nn as nn

THREADS = int(os.environ.get("THREADS", "2"))
BATCH, WARMUP, STEPS = 64, 30, 300
torch.set_num_threads(THREADS)
torch.manual_seed(0)


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(256, 10),
    )


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def bench(name, model):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    data = [(torch.rand(BATCH, 1, 28, 28), torch.randint(0, 10, (BATCH,))) for _ in range(8)]
    times = []
    for step in range(WARMUP + STEPS):
        x, y = data[step % len(data)]
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        if step >= WARMUP:
            times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    pick = lambda p: times[round((len(times) - 1) * p)]
    print(f"{name} median_ms={pick(0.5):.4f} p10_ms={pick(0.1):.4f} p90_ms={pick(0.9):.4f} threads={THREADS}")


bench("lenet", lenet())
bench("mlp", mlp())
