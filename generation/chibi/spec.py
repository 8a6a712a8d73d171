"""Body proportions and the humanoid skeleton of a chibi, derived from a few options."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BUILD_WIDTH = {"slim": 0.88, "regular": 1.0, "sturdy": 1.15}

# Bone -> parent, in an order where parents come first (the glTF node order).
BONES: tuple[tuple[str, str | None], ...] = (
    ("hips", None),
    ("spine", "hips"),
    ("chest", "spine"),
    ("neck", "chest"),
    ("head", "neck"),
    ("leftUpperArm", "chest"),
    ("leftLowerArm", "leftUpperArm"),
    ("leftHand", "leftLowerArm"),
    ("rightUpperArm", "chest"),
    ("rightLowerArm", "rightUpperArm"),
    ("rightHand", "rightLowerArm"),
    ("leftUpperLeg", "hips"),
    ("leftLowerLeg", "leftUpperLeg"),
    ("leftFoot", "leftLowerLeg"),
    ("rightUpperLeg", "hips"),
    ("rightLowerLeg", "rightUpperLeg"),
    ("rightFoot", "rightLowerLeg"),
)
BONE_NAMES = tuple(name for name, _ in BONES)
BONE_INDEX = {name: i for i, name in enumerate(BONE_NAMES)}
# Every bone VRM 1.0 requires, for checks and tests.
VRM_REQUIRED_BONES = frozenset(
    {
        "hips", "spine", "head",
        "leftUpperArm", "leftLowerArm", "leftHand", "rightUpperArm", "rightLowerArm", "rightHand",
        "leftUpperLeg", "leftLowerLeg", "leftFoot", "rightUpperLeg", "rightLowerLeg", "rightFoot",
    }
)


@dataclass(frozen=True)
class ChibiSpec:
    """Proportions. `heads` is the total height in head heights (chibi: about 2.5)."""

    heads: float = 2.5
    build: str = "regular"
    height: float = 1.0  # metres, top of head to soles

    def __post_init__(self) -> None:
        if not 2.0 <= self.heads <= 3.5:
            raise ValueError("heads must be between 2.0 and 3.5")
        if self.build not in BUILD_WIDTH:
            raise ValueError(f"build must be one of {', '.join(BUILD_WIDTH)}")

    @property
    def head_height(self) -> float:
        return self.height / self.heads

    @property
    def body_height(self) -> float:
        """Height below the head (neck base to soles)."""
        return self.height - self.head_height

    @property
    def width(self) -> float:
        return BUILD_WIDTH[self.build]

    # Head ellipsoid: slightly wider than tall, like a chibi's.
    @property
    def head_center(self) -> np.ndarray:
        return np.array([0.0, self.height - 0.5 * self.head_height, 0.0])

    @property
    def head_radii(self) -> np.ndarray:
        h = self.head_height
        return np.array([0.53 * h, 0.5 * h, 0.47 * h])

    def y(self, fraction: float) -> float:
        """A height given as a fraction of the body below the head."""
        return fraction * self.body_height

    def joints(self) -> dict[str, np.ndarray]:
        """World position of each bone's joint in the T-pose."""
        h, w = self.head_height, self.width
        shoulder_y = self.y(0.86)
        shoulder_x = 0.2 * h * w
        upper_arm, lower_arm = 0.3 * h * (self.heads / 2.5) ** 0.5, 0.27 * h * (self.heads / 2.5) ** 0.5
        leg_x = 0.13 * h * w
        pos = {
            "hips": (0.0, self.y(0.5), 0.0),
            "spine": (0.0, self.y(0.6), 0.0),
            "chest": (0.0, self.y(0.74), 0.0),
            "neck": (0.0, self.y(0.95), 0.0),
            "head": (0.0, self.body_height + 0.02 * h, 0.0),
            "leftUpperArm": (shoulder_x, shoulder_y, 0.0),
            "leftLowerArm": (shoulder_x + upper_arm, shoulder_y, 0.0),
            "leftHand": (shoulder_x + upper_arm + lower_arm, shoulder_y, 0.0),
            "leftUpperLeg": (leg_x, self.y(0.47), 0.0),
            "leftLowerLeg": (leg_x, self.y(0.27), 0.0),
            "leftFoot": (leg_x, self.y(0.08), 0.0),
        }
        for name in list(pos):
            if name.startswith("left"):
                x, y, z = pos[name]
                pos["right" + name[4:]] = (-x, y, z)
        return {name: np.array(pos[name], dtype=np.float64) for name in BONE_NAMES}

    def limb_radius(self, limb: str) -> float:
        h, w = self.head_height, self.width
        return {"arm": 0.075 * h * w, "forearm": 0.068 * h * w, "leg": 0.1 * h * w, "shin": 0.088 * h * w}[limb]


def parent_index(name: str) -> int | None:
    parent = dict(BONES)[name]
    return None if parent is None else BONE_INDEX[parent]
