// Crop adjuster: a square over the photo, dragged with the pointer or moved with the arrow keys
// (+/- resize). The form's x, y (centre, fractions of the photo) and size (fraction of the shorter
// side) inputs stay in sync, so the form also works by typing numbers or without this script.

export function clampCrop({ x, y, size }) {
  const s = Math.min(1.2, Math.max(0.1, size));
  return { x: Math.min(1, Math.max(0, x)), y: Math.min(1, Math.max(0, y)), size: s };
}

export function initCrop(form) {
  const stage = form.querySelector("#gen-crop-stage");
  const img = form.querySelector("#gen-crop-photo");
  const box = form.querySelector("#gen-crop-box");
  const inputs = { x: form.querySelector("#gen-crop-x"), y: form.querySelector("#gen-crop-y"), size: form.querySelector("#gen-crop-size") };
  if (!stage || !img || !box) return null;
  let crop = clampCrop({ x: Number(inputs.x.value), y: Number(inputs.y.value), size: Number(inputs.size.value) });

  function layout() {
    const w = img.clientWidth, h = img.clientHeight;
    if (!w || !h) return;
    const side = crop.size * Math.min(w, h);
    box.style.width = `${side}px`;
    box.style.height = `${side}px`;
    box.style.left = `${crop.x * w - side / 2}px`;
    box.style.top = `${crop.y * h - side / 2}px`;
    box.setAttribute("aria-valuetext", `${Math.round(crop.x * 100)}%, ${Math.round(crop.y * 100)}%, ${Math.round(crop.size * 100)}%`);
  }
  function set(next) {
    crop = clampCrop(next);
    inputs.x.value = crop.x.toFixed(3);
    inputs.y.value = crop.y.toFixed(3);
    inputs.size.value = crop.size.toFixed(3);
    layout();
  }
  for (const key of ["x", "y", "size"]) {
    inputs[key].addEventListener("input", () => set({ ...crop, [key]: Number(inputs[key].value) }));
  }
  let drag = null;
  box.addEventListener("pointerdown", (event) => {
    drag = { px: event.clientX, py: event.clientY, start: { ...crop } };
    box.setPointerCapture(event.pointerId);
  });
  box.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const w = img.clientWidth, h = img.clientHeight;
    set({ ...drag.start, x: drag.start.x + (event.clientX - drag.px) / w, y: drag.start.y + (event.clientY - drag.py) / h });
  });
  const end = () => { drag = null; };
  box.addEventListener("pointerup", end);
  box.addEventListener("pointercancel", end);
  box.addEventListener("keydown", (event) => {
    const step = event.shiftKey ? 0.05 : 0.01;
    const moves = { ArrowLeft: [-step, 0, 0], ArrowRight: [step, 0, 0], ArrowUp: [0, -step, 0], ArrowDown: [0, step, 0], "+": [0, 0, step], "=": [0, 0, step], "-": [0, 0, -step] };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    set({ x: crop.x + move[0], y: crop.y + move[1], size: crop.size + move[2] });
  });
  if (img.complete) layout();
  img.addEventListener("load", layout);
  new ResizeObserver(layout).observe(img);
  return { set, get: () => ({ ...crop }) };
}
