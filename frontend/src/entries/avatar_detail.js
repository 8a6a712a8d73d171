// Avatar page: live 3D preview with expression buttons (toggle) and idle motion.
import { createVrmViewer } from "../viewer/vrm_viewer.js";

const canvas = document.getElementById("avatar-canvas");
const status = document.getElementById("avatar-status");
const configNode = document.getElementById("avatar-viewer-config");

if (canvas && configNode) {
  const config = JSON.parse(configNode.textContent);
  canvas.dataset.state = "loading";
  createVrmViewer(canvas, {
    url: config.url,
    onProgress: (fraction) => { status.textContent = `${config.strings.loading} ${Math.round(fraction * 100)}%`; },
  })
    .then((viewer) => {
      status.textContent = "";
      canvas.dataset.state = "ready";
      canvas.dataset.expressions = viewer.expressionNames.join(",");
      for (const button of document.querySelectorAll("[data-expression]")) {
        const name = button.dataset.expression;
        if (!viewer.expressionNames.includes(name)) {
          button.disabled = true;
          continue;
        }
        button.addEventListener("click", () => {
          const on = button.getAttribute("aria-pressed") !== "true";
          button.setAttribute("aria-pressed", on ? "true" : "false");
          viewer.setExpression(name, on ? 1 : 0);
        });
      }
      const idle = document.getElementById("avatar-idle");
      if (idle) idle.addEventListener("change", () => viewer.setIdle(idle.checked));
      window.addEventListener("pagehide", () => viewer.dispose(), { once: true });
    })
    .catch((error) => {
      canvas.dataset.state = "failed";
      status.textContent = config.strings.failed;
      console.error(error);
    });
}
