"""Captum reference for the attribution timings of benches/inspection.rs (ONLY=explain): the same
LeNet as benches/reference_pytorch.py (random weights), one fixed 28x28 input, class 0, on the
CPU with torch.set_num_threads(THREADS): saliency, Integrated Gradients (32 steps, the Riemann
middle rule, one batch), Grad-CAM on the second convolution upsampled bilinearly to 28x28,
occlusion (patch 4, stride 2, 64 copies a batch), LIME and Kernel SHAP with 1,000 samples over a
4-pixel grid (64 copies a batch). Prints `explain <method> median_ms=<m> runs=<n>`."""
import os
import time

import torch
import torch.nn as nn
from captum.attr import (IntegratedGradients, KernelShap, LayerAttribution, LayerGradCam, Lime, Occlusion,
                         Saliency)

THREADS = int(os.environ.get("THREADS", "2"))
torch.set_num_threads(THREADS)
torch.manual_seed(0)

model = nn.Sequential(
    nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(256, 10),
).eval()
x = (torch.arange(784, dtype=torch.float32) * 7 % 256 / 255).reshape(1, 1, 28, 28)
black = torch.zeros_like(x)
mask = (torch.arange(28).reshape(28, 1) // 4 * 7 + torch.arange(28).reshape(1, 28) // 4).reshape(1, 1, 28, 28)


def grad_cam():
    cam = LayerGradCam(model, model[3]).attribute(x, target=0)
    return LayerAttribution.interpolate(cam, (28, 28), interpolate_mode="bilinear")


methods = [
    ("saliency", 50, lambda: Saliency(model).attribute(x, target=0, abs=False)),
    ("ig", 30, lambda: IntegratedGradients(model).attribute(x, black, target=0, n_steps=32, method="riemann_middle")),
    ("gradcam", 50, grad_cam),
    ("occlusion", 30, lambda: Occlusion(model).attribute(x, sliding_window_shapes=(1, 4, 4), strides=(1, 2, 2),
                                                         baselines=0.0, target=0, perturbations_per_eval=64)),
    ("lime", 7, lambda: Lime(model).attribute(x, target=0, baselines=black, feature_mask=mask, n_samples=1000,
                                              perturbations_per_eval=64)),
    ("shap", 7, lambda: KernelShap(model).attribute(x, target=0, baselines=black, feature_mask=mask,
                                                    n_samples=1000, perturbations_per_eval=64)),
]
only = os.environ.get("METHODS")
for name, runs, run in methods:
    if only and name not in only.split(","):
        continue
    run()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    print(f"explain {name} median_ms={times[len(times) // 2]:.3f} runs={runs}")
