"""Platform colours: every chart tells the common platforms apart, also for colour-blind readers.

Colour-vision deficiency is simulated with Machado, Oliveira & Fernandes (2009), severity 1.0 (the
matrices published with the paper, applied to linear RGB); distances are CIE76 ΔE in CIELAB (D65).
A ΔE of 15 is a difference anyone notices at a glance on a chart line; the old brand colours had
Facebook and LinkedIn 10 apart for tritanopes and Instagram and X 9 apart for protanopes.
"""

from __future__ import annotations

import itertools
import math

import pytest

from metrics import demo
from metrics.schema import PLATFORM_COLORS, platform_color

MACHADO = {
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216),
                   (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
                     (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602),
                   (0.004733, 0.691367, 0.303900)),
}
COMMON = ("facebook", "instagram", "tiktok", "linkedin", "google_ads", "x", "youtube", "email")
MIN_DELTA_E = 15.0


def _linear_rgb(hex_color: str) -> list[float]:
    channels = [int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    return [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]


def _simulate(rgb: list[float], vision: str) -> list[float]:
    if vision == "normal":
        return rgb
    matrix = MACHADO[vision]
    return [min(max(sum(matrix[i][j] * rgb[j] for j in range(3)), 0.0), 1.0) for i in range(3)]


def _lab(rgb: list[float]) -> tuple[float, float, float]:
    r, g, b = rgb
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def _distance(a: str, b: str, vision: str) -> float:
    return math.dist(_lab(_simulate(_linear_rgb(a), vision)), _lab(_simulate(_linear_rgb(b), vision)))


def test_white_is_far_from_black():  # the formulas themselves: ΔE(white, black) is 100 by definition
    assert _distance("#FFFFFF", "#000000", "normal") == pytest.approx(100.0, abs=0.01)


@pytest.mark.parametrize("vision", ["normal", *MACHADO])
def test_common_platforms_are_clearly_different(vision):
    for a, b in itertools.combinations(COMMON, 2):
        assert _distance(PLATFORM_COLORS[a], PLATFORM_COLORS[b], vision) >= MIN_DELTA_E, (vision, a, b)


def test_the_demo_platforms_are_the_common_ones_and_every_slug_has_a_stable_colour():
    assert set(demo.generate(rows=300)["platform"].unique()) == set(COMMON)
    assert platform_color("my_channel") == platform_color("my_channel")
    assert len(set(PLATFORM_COLORS.values())) == len(PLATFORM_COLORS)
