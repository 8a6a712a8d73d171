// 2D avatar renderer: a layered Canvas drawing (background, body, ears, head, cheeks, eyes,
// brows, nose/muzzle, mouth, extras) driven by the shared parameter object (params.js).
//
// The face is drawn as the camera sees it (the local preview mirrors the canvas with CSS), in a
// unit space where the head radius is 1. Head yaw/pitch move the facial features across the
// head (parallax) while ears and outline move less; roll rotates the whole head.
import { BS, clamp01, gaze } from "./params.js";
import { getCharacter } from "./characters2d.js";
import { handPositions } from "./body_bones.js";

const TAU = Math.PI * 2;

export class Canvas2DRenderer {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas, characterKey) {
    this.kind = "2d";
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { alpha: true, desynchronized: true });
    if (!this.ctx) throw new Error("2D canvas unavailable");
    this.setCharacter(characterKey);
    this.background = true;
  }

  setCharacter(key) {
    this.character = getCharacter(key);
    this.key = this.character.key;
  }

  resize(width, height) {
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
  }

  dispose() {
    this._bg = null;
  }

  backgroundImage(W, H, pal) {
    const bg = this._bg;
    if (bg && bg.width === W && bg.height === H && bg.top === pal.bg[0] && bg.bottom === pal.bg[1]) return bg.canvas;
    const canvas = typeof OffscreenCanvas === "function" ? new OffscreenCanvas(W, H) : Object.assign(document.createElement("canvas"), { width: W, height: H });
    const ctx = canvas.getContext("2d");
    const g = ctx.createLinearGradient(0, 0, 0, H);
    g.addColorStop(0, pal.bg[0]);
    g.addColorStop(1, pal.bg[1]);
    ctx.fillStyle = g;
    ctx.fillRect(0, 0, W, H);
    this._bg = { canvas, width: W, height: H, top: pal.bg[0], bottom: pal.bg[1] };
    return canvas;
  }

  /** @param {import("./params.js").AvatarParams} p  @param {number} tMs */
  render(p, tMs = performance.now()) {
    const ctx = this.ctx;
    const { width: W, height: H } = this.canvas;
    const c = this.character;
    const pal = c.palette;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    if (this.background) {
      // The gradient is painted once per size and character and copied each frame: a copy is
      // cheaper than shading the gradient again (software canvases draw on the CPU).
      ctx.drawImage(this.backgroundImage(W, H, pal), 0, 0);
    } else {
      ctx.clearRect(0, 0, W, H);
    }
    const b = p.blendshapes;
    const [yaw, pitch, roll] = p.rotation;
    const scale = Math.min(W, H) * 0.25;
    // Head position: camera x/y in cm -> a gentle shift (the avatar stays framed).
    const px = Math.max(-1, Math.min(1, p.position[0] / 12)) * scale * 0.25;
    const py = Math.max(-1, Math.min(1, -p.position[1] / 12)) * scale * 0.15;
    const cx = W / 2 + px;
    const cy = H * 0.5 + py;

    // Body: stays upright, follows the head a little.
    ctx.save();
    ctx.translate(W / 2 + px * 0.4, H * 0.5 + scale * 1.05);
    ctx.rotate(-roll * 0.15);
    this.drawBody(ctx, scale, pal, c);
    ctx.restore();

    ctx.save();
    ctx.translate(cx, cy);
    // Canvas y points down, so a counter-clockwise roll (camera view) is a negative angle here.
    ctx.rotate(-roll);
    ctx.scale(scale, scale);
    ctx.lineJoin = "round";
    ctx.lineCap = "round";
    const sy = Math.sin(Math.max(-0.8, Math.min(0.8, yaw)));
    const sp = Math.sin(Math.max(-0.6, Math.min(0.6, pitch)));
    const f = { x: sy * 0.42, y: sp * 0.32, squash: 1 - Math.abs(sy) * 0.12 }; // feature shift
    this.drawEars(ctx, pal, c, -sy * 0.12, -sp * 0.08, b);
    this.drawHead(ctx, pal, c, sy, sp);
    ctx.save();
    ctx.translate(f.x, f.y);
    ctx.scale(f.squash, 1);
    this.drawFace(ctx, p, pal, c, sy, tMs);
    ctx.restore();
    this.drawExtras(ctx, p, pal, c, f, tMs);
    ctx.restore();

    // Hands: only when a body tracker drives the avatar and a hand is raised; layered in front
    // of body and head (a waving hand passes in front of the face).
    if (p.hasBody) {
      const hands = handPositions(p.body);
      const shoulderY = H * 0.5 + scale * 1.15;
      for (const [side, o] of [["left", 0], ["right", 20]]) {
        const h = hands[side];
        if (!h.raised) continue;
        const x = W / 2 + px * 0.4 + h.x * scale * 0.85;
        const y = shoulderY - h.y * scale * 0.85;
        this.drawHand(ctx, pal, x, y, scale * 0.3, h.angle, p.body.fingers.subarray(o, o + 20), side);
      }
    }
  }

  /** A simple mitten-and-fingers hand, fingers up along `angle`, shortened by their curl. */
  drawHand(ctx, pal, x, y, r, angle, fingers, side) {
    ctx.save();
    ctx.translate(x, y);
    ctx.rotate(angle);
    ctx.lineCap = "round";
    ctx.fillStyle = pal.body;
    ctx.strokeStyle = pal.bodyShade;
    ctx.lineWidth = r * 0.34;
    const thumbSide = side === "left" ? -1 : 1; // palm towards the viewer: the thumb is inside
    for (let f = 1; f < 5; f++) {
      const curl = Math.max(0, fingers[f * 4 + 1] + fingers[f * 4 + 2] + fingers[f * 4 + 3]);
      const len = r * (1.25 - 0.05 * Math.abs(f - 2.5)) * Math.max(0.25, 1 - curl / 3.5);
      const fx = thumbSide * (0.45 - (f - 1) * 0.3) * r;
      ctx.beginPath();
      ctx.moveTo(fx, -r * 0.4);
      ctx.lineTo(fx * 1.1, -r * 0.4 - len);
      ctx.stroke();
    }
    const thumbCurl = Math.max(0, fingers[1] + fingers[2] + fingers[3]);
    ctx.beginPath();
    ctx.moveTo(thumbSide * r * 0.6, r * 0.1);
    ctx.lineTo(thumbSide * r * (1.2 - Math.min(0.7, thumbCurl / 3)), -r * 0.45);
    ctx.stroke();
    ctx.beginPath();
    ctx.arc(0, 0, r * 0.72, 0, TAU);
    ctx.fill();
    ctx.stroke();
    ctx.restore();
  }

  drawBody(ctx, s, pal, c) {
    ctx.fillStyle = pal.body;
    ctx.beginPath();
    ctx.moveTo(-s * 1.25, s * 1.3);
    ctx.bezierCurveTo(-s * 1.2, s * 0.2, -s * 0.7, -s * 0.05, 0, -s * 0.05);
    ctx.bezierCurveTo(s * 0.7, -s * 0.05, s * 1.2, s * 0.2, s * 1.25, s * 1.3);
    ctx.closePath();
    ctx.fill();
    ctx.fillStyle = pal.bodyShade;
    if (c.head === "robot") {
      ctx.fillRect(-s * 0.18, -s * 0.12, s * 0.36, s * 0.22); // neck block
      ctx.beginPath();
      ctx.arc(0, s * 0.45, s * 0.12, 0, TAU);
      ctx.fill();
    } else {
      ctx.beginPath();
      ctx.ellipse(0, s * 0.05, s * 0.32, s * 0.14, 0, 0, TAU);
      ctx.fill();
      ctx.fillStyle = pal.muzzle;
      ctx.beginPath();
      ctx.moveTo(-s * 0.3, s * 0.05);
      ctx.quadraticCurveTo(0, s * 0.75, s * 0.3, s * 0.05);
      ctx.fill();
    }
  }

  drawEars(ctx, pal, c, ox, oy, b) {
    ctx.save();
    ctx.translate(ox, oy);
    // Ears perk up with raised brows.
    const perk = (b[BS.browInnerUp] + b[BS.browOuterUpLeft] + b[BS.browOuterUpRight]) / 3;
    if (c.ears === "fox" || c.ears === "cat") {
      const tall = c.ears === "fox" ? 1.05 : 0.75;
      for (const side of [-1, 1]) {
        ctx.save();
        ctx.translate(side * 0.62, -0.62);
        ctx.rotate(side * (0.35 - perk * 0.15));
        ctx.fillStyle = pal.head;
        ctx.beginPath();
        ctx.moveTo(-0.34, 0.25);
        ctx.quadraticCurveTo(-0.1, -tall * 0.6, 0, -tall);
        ctx.quadraticCurveTo(0.1, -tall * 0.6, 0.34, 0.25);
        ctx.closePath();
        ctx.fill();
        ctx.fillStyle = pal.earInner;
        ctx.beginPath();
        ctx.moveTo(-0.2, 0.18);
        ctx.quadraticCurveTo(-0.05, -tall * 0.45, 0, -tall * 0.78);
        ctx.quadraticCurveTo(0.05, -tall * 0.45, 0.2, 0.18);
        ctx.closePath();
        ctx.fill();
        ctx.restore();
      }
    } else if (c.ears === "bolts") {
      for (const side of [-1, 1]) {
        ctx.fillStyle = pal.headShade;
        roundRect(ctx, side * 1.02 - 0.11, -0.25, 0.22, 0.5, 0.08);
        ctx.fill();
        ctx.fillStyle = pal.earInner;
        ctx.beginPath();
        ctx.arc(side * 1.02, 0, 0.06, 0, TAU);
        ctx.fill();
      }
    }
    ctx.restore();
  }

  drawHead(ctx, pal, c, sy, sp) {
    const grad = ctx.createRadialGradient(-0.3 + sy * 0.3, -0.35 + sp * 0.2, 0.1, 0, 0, 1.15);
    grad.addColorStop(0, pal.head);
    grad.addColorStop(1, pal.headShade);
    ctx.fillStyle = grad;
    ctx.beginPath();
    if (c.head === "robot") {
      roundRect(ctx, -0.95, -0.92, 1.9, 1.78, 0.32);
    } else if (c.head === "fox") {
      // Wide cheeks narrowing to a soft chin.
      ctx.moveTo(0, -0.92);
      ctx.bezierCurveTo(0.62, -0.92, 0.98, -0.5, 1.02, 0.05);
      ctx.bezierCurveTo(1.05, 0.45, 0.55, 0.82, 0, 0.9);
      ctx.bezierCurveTo(-0.55, 0.82, -1.05, 0.45, -1.02, 0.05);
      ctx.bezierCurveTo(-0.98, -0.5, -0.62, -0.92, 0, -0.92);
    } else {
      ctx.ellipse(0, 0, 1.0, 0.9, 0, 0, TAU);
    }
    ctx.fill();
    ctx.strokeStyle = "rgba(0,0,0,0.12)";
    ctx.lineWidth = 0.03;
    ctx.stroke();
    if (c.extras.includes("cheekFur")) {
      ctx.fillStyle = pal.muzzle;
      for (const side of [-1, 1]) {
        ctx.beginPath();
        ctx.moveTo(side * 1.02, 0.05);
        ctx.quadraticCurveTo(side * 0.9, 0.55, side * 0.25, 0.85);
        ctx.quadraticCurveTo(side * 0.55, 0.35, side * 0.2, 0.2);
        ctx.quadraticCurveTo(side * 0.7, 0.25, side * 1.02, 0.05);
        ctx.fill();
      }
    }
    if (c.extras.includes("stripes")) {
      ctx.strokeStyle = pal.headShade;
      ctx.lineWidth = 0.07;
      for (const dx of [-0.18, 0, 0.18]) {
        ctx.beginPath();
        ctx.moveTo(dx, -0.88);
        ctx.lineTo(dx * 0.8, -0.62);
        ctx.stroke();
      }
    }
  }

  drawFace(ctx, p, pal, c, sy, tMs) {
    const b = p.blendshapes;
    const smile = clamp01((b[BS.mouthSmileLeft] + b[BS.mouthSmileRight]) * 0.5);
    const cheek = clamp01(Math.max(smile * 0.8, (b[BS.cheekSquintLeft] + b[BS.cheekSquintRight]) * 0.5));
    // Cheeks (blush grows with a smile).
    ctx.fillStyle = pal.cheek;
    ctx.globalAlpha = 0.18 + 0.45 * cheek;
    for (const side of [-1, 1]) {
      ctx.beginPath();
      ctx.ellipse(side * 0.55, 0.3, 0.17, 0.1, 0, 0, TAU);
      ctx.fill();
    }
    ctx.globalAlpha = 1;
    if (c.extras.includes("muzzle") || c.mouth === "cat") {
      ctx.fillStyle = pal.muzzle;
      ctx.beginPath();
      ctx.ellipse(0, 0.42, 0.42, 0.3, 0, 0, TAU);
      ctx.fill();
    }
    if (c.extras.includes("visor")) {
      ctx.fillStyle = pal.muzzle;
      roundRect(ctx, -0.72, -0.42, 1.44, 0.5, 0.2);
      ctx.fill();
    }
    // Eyes: subject's left eye appears on the image's right.
    const g = gaze(p);
    this.drawEye(ctx, pal, c, 0.36, b[BS.eyeBlinkLeft], b[BS.eyeWideLeft], b[BS.eyeSquintLeft], g, smile);
    this.drawEye(ctx, pal, c, -0.36, b[BS.eyeBlinkRight], b[BS.eyeWideRight], b[BS.eyeSquintRight], g, smile);
    this.drawBrows(ctx, pal, c, b);
    this.drawNose(ctx, pal, c, b);
    this.drawMouth(ctx, p, pal, c, smile, tMs);
  }

  drawEye(ctx, pal, c, x, blink, wide, squint, g, smile) {
    const y = c.eyes === "led" ? -0.17 : -0.12;
    const open = clamp01((1 - clamp01(blink * 1.15)) * (1 + wide * 0.25) - squint * 0.25);
    ctx.save();
    ctx.translate(x, y);
    if (c.eyes === "led") {
      const h = 0.26 * Math.max(0.08, open);
      ctx.fillStyle = pal.iris;
      ctx.shadowColor = pal.iris;
      ctx.shadowBlur = 0;
      roundRect(ctx, -0.13 + g.x * 0.05, -h / 2 - g.y * 0.04, 0.26, h, Math.min(0.06, h / 2));
      ctx.fill();
      ctx.fillStyle = pal.pupil;
      ctx.globalAlpha = 0.7;
      roundRect(ctx, -0.07 + g.x * 0.05, -h / 2 - g.y * 0.04 + h * 0.15, 0.06, h * 0.35, 0.02);
      ctx.fill();
      ctx.globalAlpha = 1;
      ctx.restore();
      return;
    }
    const rx = c.eyes === "cat" ? 0.17 : 0.15;
    const ry = c.eyes === "cat" ? 0.16 : 0.18;
    if (open < 0.12) {
      // Closed: a curve (happy arch when smiling).
      ctx.strokeStyle = pal.line;
      ctx.lineWidth = 0.045;
      ctx.beginPath();
      if (smile > 0.4) {
        ctx.moveTo(-rx, 0.03);
        ctx.quadraticCurveTo(0, -0.12, rx, 0.03);
      } else {
        ctx.moveTo(-rx, 0);
        ctx.quadraticCurveTo(0, 0.06, rx, 0);
      }
      ctx.stroke();
      ctx.restore();
      return;
    }
    ctx.save();
    ctx.beginPath();
    ctx.ellipse(0, 0, rx, ry * open, 0, 0, TAU);
    ctx.fillStyle = pal.eyeWhite;
    ctx.fill();
    ctx.clip();
    const ix = g.x * rx * 0.45;
    const iy = -g.y * ry * 0.4;
    ctx.fillStyle = pal.iris;
    ctx.beginPath();
    ctx.arc(ix, iy, rx * 0.72, 0, TAU);
    ctx.fill();
    ctx.fillStyle = pal.pupil;
    ctx.beginPath();
    if (c.eyes === "cat") ctx.ellipse(ix, iy, rx * 0.16, rx * 0.62, 0, 0, TAU);
    else ctx.arc(ix, iy, rx * 0.38, 0, TAU);
    ctx.fill();
    ctx.fillStyle = "rgba(255,255,255,0.9)";
    ctx.beginPath();
    ctx.arc(ix + rx * 0.25, iy - rx * 0.28, rx * 0.16, 0, TAU);
    ctx.fill();
    ctx.restore();
    // Upper lid line.
    ctx.strokeStyle = pal.line;
    ctx.lineWidth = 0.035;
    ctx.beginPath();
    ctx.ellipse(0, 0, rx, ry * open, 0, Math.PI * 1.05, Math.PI * 1.95);
    ctx.stroke();
    ctx.restore();
  }

  drawBrows(ctx, pal, c, b) {
    ctx.strokeStyle = pal.brow;
    ctx.lineWidth = c.eyes === "led" ? 0.06 : 0.055;
    // side +1 = image right = subject's left.
    for (const side of [1, -1]) {
      const down = side > 0 ? b[BS.browDownLeft] : b[BS.browDownRight];
      const outerUp = side > 0 ? b[BS.browOuterUpLeft] : b[BS.browOuterUpRight];
      const inner = b[BS.browInnerUp];
      const base = c.eyes === "led" ? -0.52 : -0.4;
      const yInner = base - inner * 0.14 + down * 0.09;
      const yOuter = base - outerUp * 0.12 + down * 0.02 + inner * 0.02;
      ctx.beginPath();
      ctx.moveTo(side * 0.2, yInner);
      ctx.quadraticCurveTo(side * 0.36, Math.min(yInner, yOuter) - 0.05, side * 0.52, yOuter);
      ctx.stroke();
    }
  }

  drawNose(ctx, pal, c, b) {
    const sneer = (b[BS.noseSneerLeft] + b[BS.noseSneerRight]) * 0.5;
    ctx.fillStyle = pal.nose;
    ctx.beginPath();
    if (c.head === "robot") {
      ctx.arc(0, 0.12, 0.045, 0, TAU);
    } else if (c.head === "fox") {
      ctx.ellipse(0, 0.2 - sneer * 0.03, 0.1, 0.065, 0, 0, TAU);
    } else {
      ctx.moveTo(-0.07, 0.17 - sneer * 0.03);
      ctx.lineTo(0.07, 0.17 - sneer * 0.03);
      ctx.lineTo(0, 0.25 - sneer * 0.03);
      ctx.closePath();
    }
    ctx.fill();
  }

  drawMouth(ctx, p, pal, c, smile, tMs) {
    const b = p.blendshapes;
    const jaw = clamp01(b[BS.jawOpen] * 1.1 - b[BS.mouthClose] * 0.5);
    const frown = (b[BS.mouthFrownLeft] + b[BS.mouthFrownRight]) * 0.5;
    const pucker = clamp01(b[BS.mouthPucker] + b[BS.mouthFunnel] * 0.7);
    const stretch = (b[BS.mouthStretchLeft] + b[BS.mouthStretchRight]) * 0.5;
    const shift = (b[BS.mouthLeft] - b[BS.mouthRight]) * 0.08 + (b[BS.jawLeft] - b[BS.jawRight]) * 0.04;
    const y = c.head === "robot" ? 0.42 : 0.44;
    const halfW = 0.2 * (1 + 0.35 * smile + 0.3 * stretch - 0.5 * pucker);
    const lift = (smile - frown) * 0.1; // corners up when smiling
    const open = jaw * 0.32 + (b[BS.mouthLowerDownLeft] + b[BS.mouthLowerDownRight]) * 0.03;
    ctx.save();
    ctx.translate(shift, y);
    if (c.mouth === "grille") {
      // Equalizer-like bars: height from jaw, curve from smile.
      const bars = 7;
      ctx.fillStyle = pal.muzzle;
      roundRect(ctx, -0.34, -0.12, 0.68, 0.24 + open * 0.5, 0.06);
      ctx.fill();
      ctx.fillStyle = pal.iris;
      for (let i = 0; i < bars; i++) {
        const u = (i / (bars - 1)) * 2 - 1; // -1..1
        const curve = (1 - u * u) * (0.03 + open * 0.55) + 0.025 - lift * (u * u) * 0.6;
        const h = Math.max(0.02, curve);
        const x = u * 0.26 * (1 - pucker * 0.4);
        roundRect(ctx, x - 0.025, -h / 2 + open * 0.2 - lift * 0.3, 0.05, h, 0.02);
        ctx.fill();
      }
      ctx.restore();
      return;
    }
    if (c.mouth === "cat" && open < 0.04) {
      ctx.strokeStyle = pal.line;
      ctx.lineWidth = 0.035;
      ctx.beginPath();
      ctx.moveTo(-halfW, -lift);
      ctx.quadraticCurveTo(-halfW / 2, 0.08 + lift * 0.5, 0, 0);
      ctx.quadraticCurveTo(halfW / 2, 0.08 + lift * 0.5, halfW, -lift);
      ctx.stroke();
      ctx.restore();
      return;
    }
    if (open < 0.025) {
      ctx.strokeStyle = pal.line;
      ctx.lineWidth = 0.04;
      ctx.beginPath();
      ctx.moveTo(-halfW, -lift);
      ctx.quadraticCurveTo(0, lift * 1.2 + 0.02, halfW, -lift);
      ctx.stroke();
      ctx.restore();
      return;
    }
    // Open mouth: upper lip from corner to corner, lower lip dropping with the jaw.
    ctx.beginPath();
    ctx.moveTo(-halfW, -lift);
    ctx.quadraticCurveTo(0, -0.03 + lift * 0.6 - pucker * 0.05, halfW, -lift);
    ctx.quadraticCurveTo(halfW * 0.7, open * 1.4 + lift * 0.2, 0, open * 1.25 + 0.02);
    ctx.quadraticCurveTo(-halfW * 0.7, open * 1.4 + lift * 0.2, -halfW, -lift);
    ctx.closePath();
    ctx.fillStyle = pal.mouthInner;
    ctx.fill();
    ctx.save();
    ctx.clip();
    ctx.fillStyle = pal.tongue;
    ctx.beginPath();
    ctx.ellipse(0, open * 1.25, halfW * 0.6, open * 0.55 + 0.02, 0, 0, TAU);
    ctx.fill();
    if (smile > 0.3 && open > 0.05) {
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(-halfW * 0.6, -0.05, halfW * 1.2, 0.06);
    }
    ctx.restore();
    ctx.strokeStyle = pal.line;
    ctx.lineWidth = 0.03;
    ctx.stroke();
    ctx.restore();
  }

  drawExtras(ctx, p, pal, c, f, tMs) {
    if (c.extras.includes("whiskers")) {
      ctx.strokeStyle = pal.line;
      ctx.globalAlpha = 0.55;
      ctx.lineWidth = 0.02;
      const wig = Math.sin(tMs / 400) * 0.01 + p.blendshapes[BS.jawOpen] * 0.05;
      for (const side of [-1, 1]) {
        for (let i = 0; i < 3; i++) {
          ctx.beginPath();
          ctx.moveTo(f.x + side * 0.38, f.y + 0.36 + i * 0.06);
          ctx.lineTo(f.x + side * 0.95, f.y + 0.26 + i * 0.1 + wig * side);
          ctx.stroke();
        }
      }
      ctx.globalAlpha = 1;
    }
    if (c.extras.includes("antenna")) {
      ctx.strokeStyle = pal.line;
      ctx.lineWidth = 0.05;
      ctx.beginPath();
      ctx.moveTo(f.x * 0.3, -0.92);
      ctx.lineTo(f.x * 0.3 + Math.sin(tMs / 500) * 0.03, -1.22);
      ctx.stroke();
      ctx.fillStyle = p.speaking ? "#ff5d73" : pal.iris;
      ctx.beginPath();
      ctx.arc(f.x * 0.3 + Math.sin(tMs / 500) * 0.03, -1.27, p.speaking ? 0.1 : 0.08, 0, TAU);
      ctx.fill();
    }
  }
}

function roundRect(ctx, x, y, w, h, r) {
  ctx.beginPath();
  ctx.moveTo(x + r, y);
  ctx.arcTo(x + w, y, x + w, y + h, r);
  ctx.arcTo(x + w, y + h, x, y + h, r);
  ctx.arcTo(x, y + h, x, y, r);
  ctx.arcTo(x, y, x + w, y, r);
  ctx.closePath();
}
