"""Batch augmentation in torch, on whatever device the batch lives (GPU when present).

Aimed at the failure that matters: a model that has only seen one signer's hand in one room.
Geometry (zoom, shift, rotation, mirror: left-handed signers), colour (white balance, skin tone,
light, grey), blur and noise, background replacement for hands segmented onto black, and CutMix.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F


@dataclass
class AugmentConfig:
    zoom: tuple[float, float] = (0.8, 1.3)   # >1 zooms in (crop), <1 zooms out
    shift: float = 0.12                       # fraction of the image
    rotate: float = 15.0                      # degrees
    hflip: float = 0.5
    brightness: float = 0.35
    gamma: tuple[float, float] = (0.6, 2.2)   # >1 darkens mid-tones: backlit hands before a bright window
    contrast: float = 0.35
    saturation: float = 0.5
    channel_gain: float = 0.15                # per-channel gain: white balance and skin tone
    grayscale: float = 0.1
    blur: float = 0.2
    noise: float = 6.0                        # max Gaussian sigma, in pixel units
    background: float = 0.8                   # chance to put a hand segmented on black onto a new background
    skin_background: float = 0.3              # chance to cut other hands out by skin colour onto a new background
    clutter: float = 0.5                      # share of generated backgrounds that are busy noise rather than gradients
    cutmix: float = 0.3
    mixup: float = 0.1

    def to_dict(self) -> dict:
        return asdict(self)


def _uniform(n: int, low: float, high: float, device, generator) -> torch.Tensor:
    return torch.rand(n, device=device, generator=generator) * (high - low) + low


def _skin_mask(x: torch.Tensor) -> torch.Tensor:
    """A rough hand mask from skin colour (YCrCb box), cleaned by a majority filter: N×1×H×W in {0, 1}."""
    b, g, r = x[:, 0], x[:, 1], x[:, 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cr, cb = (r - y) * 0.713 + 128, (b - y) * 0.564 + 128
    skin = ((cr > 135) & (cr < 180) & (cb > 75) & (cb < 130) & (y > 35)).float().unsqueeze(1)
    return (F.avg_pool2d(skin, 5, 1, 2) > 0.5).float()


class BatchAugment:
    """Callable: (uint8 NHWC images, int labels) → (float NHWC 0..255 images, soft targets)."""

    def __init__(self, config: AugmentConfig, num_classes: int, backgrounds: torch.Tensor | None = None,
                 generator: torch.Generator | None = None):
        self.cfg = config
        self.num_classes = num_classes
        # Scenes without a hand (the `nothing` class), NCHW float, to paste segmented hands onto.
        self.backgrounds = backgrounds.permute(0, 3, 1, 2).float() if backgrounds is not None and len(backgrounds) else None
        self.gen = generator

    def __call__(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = images.permute(0, 3, 1, 2).float()
        targets = F.one_hot(labels, self.num_classes).float()
        x = self._replace_background(x)
        x = self._geometry(x)
        x = self._colour(x)
        x = self._blur_and_noise(x)
        x, targets = self._mix(x, targets)
        # NHWC in memory too: the model's layout change then yields channels-last convolutions, the fast path on CPU.
        return x.clamp_(0, 255).permute(0, 2, 3, 1).contiguous(), targets

    def _rand(self, n: int, low: float = 0.0, high: float = 1.0, device=None) -> torch.Tensor:
        return _uniform(n, low, high, device, self.gen)

    def _replace_background(self, x: torch.Tensor) -> torch.Tensor:
        """Hands onto other rooms: exact for hands segmented on black, a skin-colour mask otherwise."""
        n = x.shape[0]
        hand = torch.zeros_like(x[:, :1])
        chosen = torch.zeros(n, dtype=torch.bool, device=x.device)
        if self.cfg.background > 0:
            dark = (x.amax(1, keepdim=True) < 28).float()
            border = torch.cat([dark[..., 0, :], dark[..., -1, :], dark[..., :, 0], dark[..., :, -1]], -1).mean((1, 2))
            segmented = (border > 0.6) & (self._rand(n, device=x.device) < self.cfg.background)
            hand = torch.where(segmented.view(n, 1, 1, 1), 1 - dark, hand)
            chosen |= segmented
        if self.cfg.skin_background > 0:
            candidates = (~chosen & (self._rand(n, device=x.device) < self.cfg.skin_background)).nonzero().squeeze(1)
            if len(candidates):
                skin = _skin_mask(x[candidates])
                share = skin.mean((1, 2, 3))
                plausible = (share > 0.05) & (share < 0.6)  # a hand-sized patch of skin, else leave the image
                hand[candidates[plausible]] = skin[plausible]
                chosen[candidates[plausible]] = True
        if not chosen.any():
            return x
        idx = chosen.nonzero().squeeze(1)
        alpha = F.avg_pool2d(hand[idx], 3, 1, 1, count_include_pad=False)
        x = x.clone()
        x[idx] = alpha * x[idx] + (1 - alpha) * self._backgrounds(len(idx), *x.shape[-2:], x.device)
        return x

    def _backgrounds(self, k: int, h: int, w: int, device) -> torch.Tensor:
        """k backgrounds: empty rooms from the training data, colour gradients, clutter, or black."""
        ramp = torch.linspace(0, 1, w, device=device).view(1, 1, 1, w)
        c0 = self._rand(k * 3, 0, 255, device).view(k, 3, 1, 1)
        c1 = self._rand(k * 3, 0, 255, device).view(k, 3, 1, 1)
        bg = (c0 + (c1 - c0) * ramp).expand(k, 3, h, w)
        if self.cfg.clutter > 0:
            bg = torch.where(self._rand(k, device=device).view(k, 1, 1, 1) < self.cfg.clutter, self._clutter(k, h, w, device), bg)
        kind = self._rand(k, device=device).view(k, 1, 1, 1)
        bg = torch.where(kind < 0.15, torch.zeros_like(bg), bg)
        if self.backgrounds is not None:
            pick = torch.randint(len(self.backgrounds), (k,), device=self.backgrounds.device, generator=self.gen)
            real = self.backgrounds[pick].to(device)
            if real.shape[-2:] != (h, w):
                real = F.interpolate(real, size=(h, w), mode="bilinear", align_corners=False)
            bg = torch.where(kind > 0.5, real, bg)
        return bg

    def _clutter(self, k: int, h: int, w: int, device) -> torch.Tensor:
        """Busy rooms the data lacks (floors, shelves, furniture): colour noise at several scales."""
        out = torch.zeros(k, 3, h, w, device=device)
        for cells, weight in ((3, 0.5), (8, 0.3), (24, 0.2)):
            noise = torch.rand(k, 3, cells, cells, device=device, generator=self.gen) * 255
            out += weight * F.interpolate(noise, size=(h, w), mode="bicubic", align_corners=False)
        return out.clamp_(0, 255)

    def _geometry(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        zoom = torch.exp(self._rand(n, math.log(self.cfg.zoom[0]), math.log(self.cfg.zoom[1]), x.device))
        angle = self._rand(n, -self.cfg.rotate, self.cfg.rotate, x.device) * math.pi / 180
        tx = self._rand(n, -self.cfg.shift, self.cfg.shift, x.device) * 2
        ty = self._rand(n, -self.cfg.shift, self.cfg.shift, x.device) * 2
        flip = torch.where(self._rand(n, device=x.device) < self.cfg.hflip, -1.0, 1.0)
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        theta = torch.stack([torch.stack([cos * flip, -sin, tx], 1), torch.stack([sin * flip, cos, ty], 1)], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)

    def _colour(self, x: torch.Tensor) -> torch.Tensor:
        n, dev, cfg = x.shape[0], x.device, self.cfg
        gain = 1 + self._rand(n * 3, -cfg.channel_gain, cfg.channel_gain, dev).view(n, 3, 1, 1)
        gain = gain * (1 + self._rand(n, -cfg.brightness, cfg.brightness, dev).view(n, 1, 1, 1))
        x = x * gain
        grey = (x * torch.tensor([0.114, 0.587, 0.299], device=dev).view(1, 3, 1, 1)).sum(1, keepdim=True)
        saturation = 1 + self._rand(n, -cfg.saturation, cfg.saturation, dev)
        saturation = torch.where(self._rand(n, device=dev) < cfg.grayscale, 0.0, saturation).view(n, 1, 1, 1)
        x = grey + (x - grey) * saturation
        mean = grey.mean((2, 3), keepdim=True)
        contrast = 1 + self._rand(n, -cfg.contrast, cfg.contrast, dev).view(n, 1, 1, 1)
        x = ((x - mean) * contrast + mean).clamp_(0, 255)
        gamma = torch.exp(self._rand(n, math.log(cfg.gamma[0]), math.log(cfg.gamma[1]), dev)).view(n, 1, 1, 1)
        return 255 * (x / 255).pow(gamma)

    def _blur_and_noise(self, x: torch.Tensor) -> torch.Tensor:
        """Blur some images, add sensor noise to half of them (computed for those images only)."""
        n, dev = x.shape[0], x.device
        blurred = (self._rand(n, device=dev) < self.cfg.blur).nonzero().squeeze(1)
        if len(blurred):
            x[blurred] = F.avg_pool2d(x[blurred], 3, 1, 1, count_include_pad=False)
        noisy = (self._rand(n, device=dev) < 0.5).nonzero().squeeze(1) if self.cfg.noise > 0 else blurred[:0]
        if len(noisy):
            sigma = self._rand(len(noisy), 0, self.cfg.noise, dev).view(-1, 1, 1, 1)
            x[noisy] += torch.randn((len(noisy), *x.shape[1:]), device=dev, generator=self.gen) * sigma
        return x

    def _mix(self, x: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """CutMix or mixup on the whole batch (one or neither), labels mixed by area or weight."""
        roll = float(torch.rand(1, generator=self.gen))
        if roll >= self.cfg.cutmix + self.cfg.mixup:
            return x, targets
        perm = torch.randperm(x.shape[0], device=x.device, generator=self.gen)
        lam = float(torch.rand(1, generator=self.gen))  # Beta(1, 1)
        if roll < self.cfg.cutmix:
            h, w = x.shape[-2:]
            cut = math.sqrt(1 - lam)
            ch, cw = int(h * cut), int(w * cut)
            cy, cx = int(torch.randint(h, (1,), generator=self.gen)), int(torch.randint(w, (1,), generator=self.gen))
            y0, y1 = max(cy - ch // 2, 0), min(cy + ch // 2, h)
            x0, x1 = max(cx - cw // 2, 0), min(cx + cw // 2, w)
            x = x.clone()
            x[:, :, y0:y1, x0:x1] = x[perm, :, y0:y1, x0:x1]
            lam = 1 - (y1 - y0) * (x1 - x0) / (h * w)
        else:
            x = lam * x + (1 - lam) * x[perm]
        return x, lam * targets + (1 - lam) * targets[perm]
