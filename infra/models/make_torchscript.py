#!/usr/bin/env python3
"""Writes the project's TorchScript models (torch.jit.script), with deterministic weights from a fixed seed.

    make_torchscript.py OUT_DIR [NAME ...]

NAME (default: small resnet20):
  small          Conv2d(1,8,3) + BatchNorm2d + ReLU + max-pool 2 + Linear(8*13*13, 10): one 1x28x28 grey image, 10 classes
  resnet20       CIFAR-style ResNet-20 (3 stages of 3 basic blocks, 16/32/64 filters, 1x1 projection shortcuts) for 1x28x28, 10 classes
  bad-dropout    the small net with dropout in training mode (a non-deterministic op: refused at upload)
  bad-noparams   a module without parameters (refused at upload)
  bad-classes7   the small net with 7 outputs (refused for an intent that declares 10 classes)
Each is written as OUT_DIR/NAME.pt. The same torch version writes the same bytes (weights from torch.manual_seed).
Needs Debian's python3-torch (apt-get install -y python3-torch); infra/preflight.sh installs it for the commands that need it.
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 20261207


class Small(nn.Module):
    def __init__(self, classes: int = 10):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8 * 13 * 13, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        return self.fc(torch.flatten(x, 1))


class SmallDropout(Small):
    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        x = F.dropout(torch.flatten(x, 1), 0.5, self.training)
        return self.fc(x)


class NoParams(nn.Module):
    def forward(self, x):
        return torch.flatten(F.avg_pool2d(x, 28), 1)


class Basic(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        else:
            self.shortcut = nn.Sequential()

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x))


class ResNet20(nn.Module):
    def __init__(self, channels: int = 1, classes: int = 10):
        super().__init__()
        self.conv = nn.Conv2d(channels, 16, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        layers = []
        cin = 16
        for cout, stride in ((16, 1), (32, 2), (64, 2)):
            for b in range(3):
                layers.append(Basic(cin, cout, stride if b == 0 else 1))
                cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        x = self.layers(x)
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))


MODELS = {
    "small": lambda: Small(),
    "resnet20": lambda: ResNet20(),
    "bad-dropout": lambda: SmallDropout(),
    "bad-noparams": lambda: NoParams(),
    "bad-classes7": lambda: Small(7),
}


def main(argv):
    if os.environ.get("PYTHONHASHSEED") != "0":
        # TorchScript writes a class's constants in set order: a fixed hash seed makes the same torch write the same bytes
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable] + argv)
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) >= 2 else 2
    out = argv[1]
    names = argv[2:] or ["small", "resnet20"]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    for name in names:
        if name not in MODELS:
            print("make_torchscript.py: unknown model %r; one of %s" % (name, ", ".join(MODELS)), file=sys.stderr)
            return 2
        torch.manual_seed(SEED)
        m = MODELS[name]()
        m.train()
        s = torch.jit.script(m)
        s.eval()  # the scripted graph runs on the declared input (in eval mode: the running statistics stay as initialised)
        with torch.no_grad():
            y = s(torch.zeros(2, 1, 28, 28))
        s.train()
        path = os.path.join(out, name + ".pt")
        s.save(path)
        print("%s %s (%d parameters, output %s)" % (name, path, sum(p.numel() for p in m.parameters()), tuple(y.shape)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
