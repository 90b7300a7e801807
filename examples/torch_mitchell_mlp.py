"""Train a small MLP on scikit-learn's digits with Mitchell's multiplier in every
matmul, forward and backward, beside the same MLP with nn.Linear.

    python examples/torch_mitchell_mlp.py [--steps 300] [--backward mitchell|exact]

``MitchellLinear(backward="mitchell")`` computes y = x (x) W^T, and the input
and weight gradients G (x) W and X^T (x) G, with Mitchell's logarithmic
multiply (ApproxTrain, PAM): a network trained without one exact multiply in
its linear layers.  Prints the test accuracy of both.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

import logsketch.torch as lt


def data(seed=0):
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(x, digits.target, test_size=0.25, random_state=seed,
                                                        stratify=digits.target)
    return (torch.from_numpy(x_train), torch.from_numpy(y_train).long(),
            torch.from_numpy(x_test), torch.from_numpy(y_test).long())


def mlp(linear, hidden=128, **kw):
    return nn.Sequential(linear(64, hidden, **kw), nn.ReLU(), linear(hidden, hidden, **kw), nn.ReLU(),
                         linear(hidden, 10, **kw))


def train(model, x, y, steps, *, seed=0, batch_size=128, lr=3e-3):
    generator = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        idx = torch.randint(0, x.shape[0], (batch_size,), generator=generator)
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item()


@torch.no_grad()
def accuracy(model, x, y):
    return (model(x).argmax(1) == y).float().mean().item()


def run(steps, seed=0, backward="mitchell", compensated=False):
    """Test accuracy of the Mitchell MLP and of the nn.Linear one, same init and batches."""
    x_train, y_train, x_test, y_test = data(seed)
    results = {}
    for name, linear, kw in (("mitchell", lt.MitchellLinear, dict(backward=backward, compensated=compensated)),
                             ("linear", nn.Linear, {})):
        torch.manual_seed(seed)
        model = mlp(linear, **kw)
        final = train(model, x_train, y_train, steps, seed=seed)
        results[name] = {"final_train_loss": final, "test_accuracy": accuracy(model, x_test, y_test)}
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backward", choices=("mitchell", "exact"), default="mitchell")
    parser.add_argument("--compensated", action="store_true")
    args = parser.parse_args()
    results = run(args.steps, args.seed, args.backward, args.compensated)
    for name, r in results.items():
        print(f"{name:>9}: test accuracy {r['test_accuracy']:.4f}  (final training loss {r['final_train_loss']:.4f})")


if __name__ == "__main__":
    main()
