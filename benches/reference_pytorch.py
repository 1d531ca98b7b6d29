"""PyTorch reference for benches/train_step.rs: the same LeNet, MLP 784-128-10, reverse-task
Transformer (2 pre-norm blocks, 4 heads, dimension 32, GELU feed-forward of 64, sinusoidal positions)
and LSTM text classifier (Embedding 32, LSTM 64, dropout 0.3, Dense 64 ReLU, Dense 2), batch 64,
forward + backward + Adam, median over 300 steps after 30 warm-up steps, on the CPU with
torch.set_num_threads(THREADS). Prints lines in the same format as the Rust benchmark."""
import math
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


class Block(nn.Module):
    """x + attention(LayerNorm(x)), then + W2 GELU(W1 LayerNorm(.)): Glassbox's TransformerBlock."""

    def __init__(self, d, heads, ff):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ff = nn.Sequential(nn.Linear(d, ff), nn.GELU(), nn.Linear(ff, d))

    def forward(self, x):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.ff(self.ln2(x))


class Transformer(nn.Module):
    def __init__(self, vocab=10, d=32, length=8):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        pe = torch.zeros(length, d)
        for t in range(length):
            for c in range(d):
                angle = t / 10000 ** ((c // 2 * 2) / d)
                pe[t, c] = math.sin(angle) if c % 2 == 0 else math.cos(angle)
        self.register_buffer("pe", pe)
        self.blocks = nn.Sequential(Block(d, 4, 64), Block(d, 4, 64))
        self.out = nn.Linear(d, vocab)

    def forward(self, x):
        return self.out(self.blocks(self.embed(x) + self.pe)).reshape(-1, 10)


class LstmClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(66, 32)
        self.lstm = nn.LSTM(32, 64, batch_first=True)
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))

    def forward(self, x):
        out, _ = self.lstm(self.embed(x))
        return self.head(out[:, -1])


def images():
    return [(torch.rand(BATCH, 1, 28, 28), torch.randint(0, 10, (BATCH,))) for _ in range(8)]


def tokens(length, vocab, labels, classes):
    return [(torch.randint(0, vocab, (BATCH, length)), torch.randint(0, classes, (BATCH * labels,))) for _ in range(8)]


def bench(name, model, data):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
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


ONLY = os.environ.get("ONLY")
wanted = lambda name: ONLY is None or name in ONLY.split(",")
if wanted("lenet"):
    bench("lenet", lenet(), images())
if wanted("mlp"):
    bench("mlp", mlp(), images())
if wanted("transformer"):
    bench("transformer", Transformer(), tokens(8, 10, 8, 10))
if wanted("lstm"):
    bench("lstm", LstmClassifier(), tokens(12, 66, 1, 2))
