"""Small CNNs for the experiments (CPU-sized defaults).

* :class:`CifarResNet` -- He et al.'s CIFAR ResNet (depth 6n+2: 20, 32, ...) with the
  parameter-free "option A" shortcut (zero-padded strided identity), 3x3 convolutions only,
  widths 16/32/64.  ``in_channels=1`` and any input size (28x28 Fashion-MNIST, 8x8 digits):
  the stem keeps the resolution, stages 2 and 3 halve it, global average pooling follows.
  ResNet-20: 0.27 M parameters.
* :class:`WideResNet` -- Zagoruyko & Komodakis' WRN-d-k (pre-activation blocks, 1x1
  projection shortcuts where the shape changes), depth 6n+4, widths 16k/32k/64k.  Default
  WRN-10-2 (widths 32/64/128, 0.32 M parameters): a *narrow* WRN for the CPU.

The stem convolution is named ``conv1`` and the classifier ``fc`` in both, so the
experiments can leave them dense (``exclude=["conv1", "fc"]``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class _BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.stride, self.pad = stride, cout - cin

    def shortcut(self, x):
        if self.stride != 1:
            x = x[:, :, ::self.stride, ::self.stride]
        if self.pad:
            x = F.pad(x, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        return x

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    def __init__(self, depth=20, in_channels=1, num_classes=10, width=16):
        super().__init__()
        if (depth - 2) % 6:
            raise ValueError(f"CIFAR ResNet depth must be 6n+2 (20, 32, 44, ...), got {depth}")
        n = (depth - 2) // 6
        self.depth = depth
        self.conv1 = nn.Conv2d(in_channels, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        blocks, cin = [], width
        for stage, cout in enumerate((width, 2 * width, 4 * width)):
            for b in range(n):
                stride = 2 if (stage > 0 and b == 0) else 1
                blocks.append(_BasicBlock(cin, cout, stride))
                cin = cout
        self.layers = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layers(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


class _WideBlock(nn.Module):
    def __init__(self, cin, cout, stride, dropout=0.0):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.dropout = dropout
        self.shortcut = (nn.Conv2d(cin, cout, 1, stride=stride, bias=False)
                         if (stride != 1 or cin != cout) else None)

    def forward(self, x):
        o = F.relu(self.bn1(x))
        y = self.conv1(o)
        y = F.relu(self.bn2(y))
        if self.dropout:
            y = F.dropout(y, self.dropout, self.training)
        y = self.conv2(y)
        return y + (x if self.shortcut is None else self.shortcut(o))


class WideResNet(nn.Module):
    def __init__(self, depth=10, widen=2, in_channels=1, num_classes=10, dropout=0.0):
        super().__init__()
        if (depth - 4) % 6:
            raise ValueError(f"WideResNet depth must be 6n+4 (10, 16, 22, 28, ...), got {depth}")
        n = (depth - 4) // 6
        self.depth, self.widen = depth, widen
        widths = (16 * widen, 32 * widen, 64 * widen)
        self.conv1 = nn.Conv2d(in_channels, 16, 3, padding=1, bias=False)
        blocks, cin = [], 16
        for stage, cout in enumerate(widths):
            for b in range(n):
                stride = 2 if (stage > 0 and b == 0) else 1
                blocks.append(_WideBlock(cin, cout, stride, dropout))
                cin = cout
        self.layers = nn.Sequential(*blocks)
        self.bn = nn.BatchNorm2d(cin)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.layers(self.conv1(x))
        x = F.relu(self.bn(x))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


def build_model(arch: str, in_channels=1, num_classes=10) -> nn.Module:
    """``"resnet20"``, ``"resnet32"``, ``"wrn-10-2"``, ``"wrn-16-1"`` ... (``wrn-<depth>-<k>``)."""
    a = arch.lower()
    if a.startswith("resnet"):
        return CifarResNet(int(a[6:]), in_channels, num_classes)
    if a.startswith("wrn"):
        _, d, k = a.split("-")
        return WideResNet(int(d), int(k), in_channels, num_classes)
    raise ValueError(f"unknown architecture {arch!r}")


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
