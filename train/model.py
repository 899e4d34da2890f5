"""Network architectures: AslNet (ours, built for edge speed) and SeedCNN (the seed project's, as a reference).

Every model takes the camera's pixels as they come from `asl.runtime.image.to_model_input`:
uint8 (or float 0..255) NHWC BGR at the input size. Scaling, normalisation and the layout change
are the first layer, so the exported ONNX graph carries its own preprocessing.
"""
from __future__ import annotations

import torch
from torch import nn

from asl.data import NUM_CLASSES

# Per-channel statistics in BGR order, in 0..255 pixel units (ImageNet's, a neutral choice).
PIXEL_MEAN_BGR = (103.53, 116.28, 123.675)
PIXEL_STD_BGR = (57.375, 57.12, 58.395)


class Preprocess(nn.Module):
    """NHWC uint8/float pixels (0..255) → normalised NCHW float."""

    def __init__(self, mean=PIXEL_MEAN_BGR, std=PIXEL_STD_BGR):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("inv_std", 1.0 / torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = pixels.permute(0, 3, 1, 2).float()
        return (x - self.mean) * self.inv_std

    def expand_mean(self, input_size: int) -> None:
        """Store the mean at full image size, for export only.

        ONNX Runtime moves the layout change past this subtraction (its int8 kernels run NHWC), and
        there a per-channel (1, 3, 1, 1) broadcast over the innermost axis took a fifth of the int8
        model's time; a same-shape subtraction costs ~110 kB of constants and almost no time.
        """
        self.mean = self.mean.expand(1, 3, input_size, input_size).contiguous()


def conv_bn(cin: int, cout: int, kernel: int = 3, stride: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1×1 expand, 3×3 depthwise, 1×1 project; identity shortcut when shapes match."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        layers = [conv_bn(cin, hidden, 1)] if expand != 1 else []
        layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden), conv_bn(hidden, cout, 1, act=False)]
        self.body = nn.Sequential(*layers)
        self.shortcut = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.shortcut else y


class AslNet(nn.Module):
    """A small MobileNetV2-style CNN: 0.25 M parameters, 23 MFLOPs at 96 px (width 1.0, expansion 2: the shipped model).

    Stages of (channels, blocks, first stride); ReLU throughout so int8 quantization stays exact-ish.
    """

    STAGES = ((16, 1, 1), (24, 2, 2), (40, 2, 2), (80, 3, 2), (128, 2, 2))

    def __init__(self, num_classes: int = NUM_CLASSES, width: float = 1.0, expand: int = 2, dropout: float = 0.2):
        super().__init__()
        self.config = {"num_classes": num_classes, "width": width, "expand": expand, "dropout": dropout}

        def ch(c: int) -> int:
            return max(8, int(round(c * width / 8)) * 8)

        self.preprocess = Preprocess()
        layers = [conv_bn(3, ch(16), 3, 2)]
        cin = ch(16)
        for channels, blocks, stride in self.STAGES:
            for b in range(blocks):
                layers.append(InvertedResidual(cin, ch(channels), stride if b == 0 else 1, 1 if channels == 16 else expand))
                cin = ch(channels)
        head = ch(384)
        layers.append(conv_bn(cin, head, 1))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(head, num_classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(self.preprocess(pixels))))


class SeedCNN(nn.Module):
    """The seed project's CNN, kept as the benchmark baseline: 3 conv/pool stages on 200×200 RGB, then 2 dense layers."""

    def __init__(self, num_classes: int = NUM_CLASSES):
        super().__init__()
        self.config = {"num_classes": num_classes}
        self.preprocess = Preprocess()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(128 * 25 * 25, 512), nn.ReLU(inplace=True), nn.Linear(512, num_classes))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(self.preprocess(pixels)))


ARCHITECTURES = {"aslnet": AslNet, "seed": SeedCNN}
# The seed network's flatten size fixes its input size.
FIXED_INPUT_SIZE = {"seed": 200}


def build_model(arch: str, **config) -> nn.Module:
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[arch](**config)


def count_flops(model: nn.Module, input_size: int) -> int:
    """Forward FLOPs (2 per multiply-add) for one image, as torch's FlopCounterMode counts them."""
    from torch.utils.flop_counter import FlopCounterMode

    was_training = model.training
    model.eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, input_size, input_size, 3, device=next(model.parameters()).device))
    model.train(was_training)
    return counter.get_total_flops()


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
