"""PyTorch twins of murmur's models: the same layers, shapes and state_dict
names, so murmur's safetensors checkpoints load into them and the
benchmarks compare like with like."""

import math

import torch
from torch import nn


def range_chunks(group_size, chunks):
    """murmur's chunk count: the largest divisor of the group size not above
    `chunks` that leaves at least 2 values per chunk."""
    k = min(chunks, group_size // 2)
    while k > 1 and group_size % k:
        k -= 1
    return max(k, 1)


class EvoNorm(nn.Module):
    """EvoNorm-S0 (range=False) and Range-EvoNorm (range=True), ALGORITHMS.md §6.4."""

    def __init__(self, channels, groups=8, chunks=16, eps=1e-5, range=False):
        super().__init__()
        self.groups, self.chunks, self.eps, self.range = min(groups, channels), chunks, eps, range
        shape = (1, channels, 1, 1)
        self.weight = nn.Parameter(torch.ones(shape))
        self.bias = nn.Parameter(torch.zeros(shape))
        self.v = nn.Parameter(torch.ones(shape))

    def forward(self, x):
        b, c, h, w = x.shape
        n = x * torch.sigmoid(x * self.v)
        g = x.reshape(b, self.groups, -1)
        if self.range:
            k = range_chunks(g.shape[-1], self.chunks)
            y = g.reshape(b, self.groups, k, -1)
            m = y.shape[-1]
            r = y.max(-1)[0].mean(-1) - y.min(-1)[0].mean(-1)
            constant = 0.5 * 0.35 * (1 + math.sqrt(math.pi * math.log(4))) / math.sqrt(2 * math.log(m)) if m > 1 else 1.0
            scale = 1 / (r * constant + self.eps)
        else:
            scale = 1 / torch.sqrt(g.var(dim=-1, unbiased=False) + self.eps)
        out = n.reshape(b, self.groups, -1) * scale.unsqueeze(-1)
        return out.reshape(b, c, h, w) * self.weight + self.bias


def norm_layer(kind, channels, groups=0):
    if kind == "groupnorm":
        return nn.GroupNorm(min(groups or 2, channels), channels)
    if kind in ("evonorm", "range-evonorm"):
        return EvoNorm(channels, groups or 8, range=kind == "range-evonorm")
    return nn.BatchNorm2d(channels)


def activation(norm):
    """EvoNorms carry their own non-linearity: no ReLU after them."""
    return nn.Identity() if norm in ("evonorm", "range-evonorm") else nn.ReLU()


class LogReg(nn.Module):
    def __init__(self, input_shape, classes):
        super().__init__()
        c, h, w = input_shape
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(c * h * w, classes)

    def forward(self, x):
        return self.fc(self.flatten(x))


class MLP(nn.Module):
    def __init__(self, input_shape, classes):
        super().__init__()
        c, h, w = input_shape
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(c * h * w, 256)
        self.fc2 = nn.Linear(256, 256)
        self.fc3 = nn.Linear(256, classes)

    def forward(self, x):
        x = self.flatten(x)
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


class LeNet5(nn.Module):
    def __init__(self, input_shape, classes):
        super().__init__()
        c, h, w = input_shape
        self.conv1 = nn.Conv2d(c, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        h, w = (h // 2 - 4) // 2, (w // 2 - 4) // 2
        self.fc1 = nn.Linear(16 * h * w, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


class BasicBlock(nn.Module):
    def __init__(self, inp, out, stride, norm):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, out, 3, stride, 1, bias=False)
        self.bn1 = norm_layer(norm, out)
        self.conv2 = nn.Conv2d(out, out, 3, 1, 1, bias=False)
        self.bn2 = norm_layer(norm, out)
        self.downsample = None
        if stride != 1 or inp != out:
            self.downsample = nn.Sequential(nn.Conv2d(inp, out, 1, stride, bias=False), norm_layer(norm, out))

        self.act = activation(norm)

    def forward(self, x):
        y = self.bn2(self.conv2(self.act(self.bn1(self.conv1(x)))))
        s = x if self.downsample is None else self.downsample(x)
        return self.act(y + s)


class ResNet20(nn.Module):
    def __init__(self, input_shape, classes, norm="batchnorm"):
        super().__init__()
        self.conv1 = nn.Conv2d(input_shape[0], 16, 3, 1, 1, bias=False)
        self.bn1 = norm_layer(norm, 16)
        layers, inp = [], 16
        for stage, width in enumerate([16, 32, 64]):
            blocks = []
            for b in range(3):
                blocks.append(BasicBlock(inp, width, 2 if stage > 0 and b == 0 else 1, norm))
                inp = width
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.fc = nn.Linear(64, classes)
        self.act = activation(norm)

    def forward(self, x):
        x = self.act(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1))


class VGG11(nn.Module):
    def __init__(self, input_shape, classes, norm="batchnorm"):
        super().__init__()
        c, h, w = input_shape
        layers = []
        for v in [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]:
            if v == "M":
                # murmur skips a pool once the plane is 1x1; an Identity keeps the numbering.
                if h >= 2 and w >= 2:
                    layers.append(nn.MaxPool2d(2, 2))
                    h, w = h // 2, w // 2
                else:
                    layers.append(nn.Identity())
                continue
            layers += [nn.Conv2d(c, v, 3, padding=1), norm_layer(norm, v), activation(norm)]
            c = v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(512, classes)

    def forward(self, x):
        x = torch.nn.functional.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


def build(name, input_shape, classes=10, norm="batchnorm"):
    if name == "logreg":
        return LogReg(input_shape, classes)
    if name == "mlp":
        return MLP(input_shape, classes)
    if name == "lenet5":
        return LeNet5(input_shape, classes)
    if name == "resnet20":
        return ResNet20(input_shape, classes, norm)
    if name == "vgg11":
        return VGG11(input_shape, classes, norm)
    raise ValueError(f"unknown model {name}")
