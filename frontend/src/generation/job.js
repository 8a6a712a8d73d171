// Job page: live progress over the WebSocket (/ws/generate/<id>/), with polling of the status API
// as a fallback; stage previews appear as stages finish; cancel/retry call the REST API; the
// crop adjuster and the 3D viewer start when the job needs them. All text is set with textContent;
// translated strings come from the page (json_script).
import { withCsrf } from "../csrf.js";
import { ReconnectingSocket, wsUrl } from "../ws.js";

const FINISHED = new Set(["succeeded", "failed", "cancelled"]);

export function formatMs(template, ms) {
  return template.replace("%(ms)s", String(ms));
}

// The retry button's words for a job's status: a cancelled job failed at no step, so it is
// offered to continue, not to "retry from the failed step". labels = strings.retry_labels.
export function retryLabel(labels, status) {
  return (labels && (labels[status] || labels.failed)) || "";
}

export class JobPage {
  constructor(root, data, strings) {
    this.root = root;
    this.strings = strings;
    this.job = data;
    this.socket = null; // ReconnectingSocket
    this.pollTimer = null;
    this.viewerStarted = false;
    this.cropStarted = false;
    this.el = (id) => document.getElementById(id);
  }

  start() {
    this.render(this.job);
    this.bindActions();
    this.connect();
  }

  connect() {
    // Finished jobs stay connected too: a retry from another tab restarts them.
    this.socket = new ReconnectingSocket(wsUrl(this.job.ws_path), {
      backoff: { baseMs: 1000, factor: 2, maxMs: 30000 },
      terminalCodes: [4404, 4401],
      onOpen: () => {
        this.stopPolling();
        this.showConnection("");
      },
      onMessage: (message) => {
        if (message.type === "job" && message.job) this.render(message.job);
        else if (message.type === "error") this.showActionError(message.message);
      },
      onClose: ({ terminal, error }) => {
        if (error) this.startPolling(); // no WebSocket at all: the status API it is
        if (terminal) return;
        if (!FINISHED.has(this.job.status)) {
          this.showConnection(this.strings.connection_lost);
          this.startPolling();
        }
      },
    });
    this.socket.connect();
  }

  startPolling() {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => this.refresh(), 2500);
  }

  stopPolling() {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  async refresh() {
    try {
      const response = await fetch(this.job.status_url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (response.ok) this.render(await response.json());
    } catch {
      // offline for a moment: the next tick tries again
    }
    if (FINISHED.has(this.job.status)) this.stopPolling();
  }

  showConnection(text) {
    const el = this.el("gen-connection");
    if (!el) return;
    el.textContent = text;
    el.hidden = !text;
  }

  showActionError(text) {
    const el = this.el("gen-action-error");
    if (!el) return;
    el.textContent = text || "";
    el.hidden = !text;
  }

  bindActions() {
    const actions = [
      ["gen-cancel-form", `/api/generate/${this.job.job_id}/cancel`, this.strings.cancel_failed],
      ["gen-retry-form", `/api/generate/${this.job.job_id}/retry`, this.strings.retry_failed],
    ];
    for (const [formId, url, failure] of actions) {
      const form = this.el(formId);
      if (!form) continue;
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const button = form.querySelector("button");
        button.disabled = true;
        this.showActionError("");
        try {
          const response = await fetch(url, {
            method: "POST",
            credentials: "same-origin",
            headers: withCsrf({ Accept: "application/json" }, form),
          });
          const body = await response.json().catch(() => ({}));
          if (!response.ok) this.showActionError(body.message || failure);
          else this.render(body);
          if (response.ok && !this.socket.active) this.startPolling();
        } catch {
          this.showActionError(failure);
        } finally {
          button.disabled = false;
        }
      });
    }
  }

  render(job) {
    this.job = job;
    this.root.dataset.status = job.status;
    const progress = this.el("gen-progress");
    progress.value = job.progress;
    progress.textContent = `${job.progress}%`;
    this.el("gen-percent").textContent = `${job.progress}%`;
    const badge = this.el("gen-status");
    badge.className = `badge gen-status gen-status-${job.status}`;
    badge.textContent = (this.strings.statuses && this.strings.statuses[job.status]) || job.status;
    this.el("gen-step").textContent = job.current_step;

    const errorBox = this.el("gen-error");
    errorBox.hidden = !job.error;
    if (job.error) {
      this.el("gen-error-message").textContent = job.error.message;
      this.el("gen-error-code").textContent = job.error.code;
    }
    const notes = this.el("gen-notes");
    notes.replaceChildren(...job.notes.map((note) => {
      const li = document.createElement("li");
      li.className = "message warning";
      li.textContent = note;
      return li;
    }));
    this.renderStages(job.stages);

    this.el("gen-cancel-form").hidden = !job.can_cancel;
    this.el("gen-retry-form").hidden = !job.can_retry;
    const retryText = retryLabel(this.strings.retry_labels, job.status);
    if (retryText) this.el("gen-retry").textContent = retryText;
    this.el("gen-delete-form").hidden = job.can_cancel;

    const method = job.face && job.face.method;
    const cropPanel = this.el("gen-crop-panel");
    if ((method === "fallback" || method === "manual") && job.face.photo_url) {
      cropPanel.hidden = false;
      this.startCrop(job);
    }
    this.renderResult(job);
    if (FINISHED.has(job.status)) this.stopPolling();
  }

  renderStages(stages) {
    const list = this.el("gen-stages");
    for (const stage of stages) {
      const li = list.querySelector(`[data-stage="${stage.name}"]`);
      if (!li) continue;
      li.className = `gen-stage gen-stage-${stage.status}`;
      li.querySelector(".gen-stage-time").textContent = stage.duration_ms === null ? "" : formatMs(this.strings.ms, stage.duration_ms);
      let img = li.querySelector(".gen-stage-preview");
      if (stage.preview_url) {
        if (!img) {
          img = document.createElement("img");
          img.className = "gen-stage-preview";
          img.alt = this.strings.preview_alt.replace("%(step)s", stage.label);
          li.querySelector(".gen-stage-head").after(img);
        }
        if (img.getAttribute("src") !== stage.preview_url) img.src = stage.preview_url;
      } else if (img) {
        img.remove();
      }
      let note = li.querySelector(".gen-stage-note");
      if (stage.note) {
        if (!note) {
          note = document.createElement("p");
          note.className = "gen-stage-note";
          li.append(note);
        }
        note.textContent = stage.note;
      } else if (note) {
        note.remove();
      }
    }
  }

  async startCrop(job) {
    if (this.cropStarted) return;
    this.cropStarted = true;
    const form = this.el("gen-crop-form");
    let img = this.el("gen-crop-photo");
    if (!img) {
      img = document.createElement("img");
      img.id = "gen-crop-photo";
      img.alt = this.strings.photo_alt;
      img.src = job.face.photo_url;
      this.el("gen-crop-stage").prepend(img);
    }
    if (job.face.crop) {
      this.el("gen-crop-x").value = job.face.crop.x;
      this.el("gen-crop-y").value = job.face.crop.y;
      this.el("gen-crop-size").value = job.face.crop.size;
    }
    const { initCrop } = await import("./crop.js");
    initCrop(form);
  }

  async renderResult(job) {
    const section = this.el("gen-result");
    if (!job.result_url) {
      section.hidden = true;
      return;
    }
    section.hidden = false;
    this.el("gen-download").href = job.result_url;
    const links = this.el("gen-avatar-links");
    links.hidden = !job.avatar;
    if (job.avatar) this.el("gen-library-link").href = job.avatar.url;
    if (this.viewerStarted) return;
    this.viewerStarted = true;
    const status = this.el("gen-viewer-status");
    const { GenerationViewer, webglAvailable } = await import("./viewer.js");
    if (!webglAvailable()) {
      status.textContent = this.strings.no_webgl;
      return;
    }
    status.textContent = this.strings.loading_model;
    try {
      const viewer = new GenerationViewer(this.el("gen-viewer"));
      await viewer.load(job.result_url);
      status.textContent = "";
      this.viewer = viewer;
      window.__generationViewer = viewer; // for the browser test
      this.bindViewerControls(viewer);
      this.startCreator(viewer);
    } catch (error) {
      status.textContent = this.strings.model_failed;
      console.error(error);
    }
  }

  async startCreator(viewer) {
    const form = this.el("gen-creator-form");
    if (!form) return;
    const { Creator } = await import("./creator.js");
    const creator = new Creator({ form, status: this.el("gen-creator-status"), jobId: this.job.job_id, viewer, strings: this.strings });
    if (await creator.start()) window.__generationCreator = creator; // for the browser test
  }

  bindViewerControls(viewer) {
    for (const button of this.root.ownerDocument.querySelectorAll("[data-clip]")) {
      button.addEventListener("click", () => viewer.play(button.dataset.clip));
    }
    for (const button of this.root.ownerDocument.querySelectorAll("[data-expression]")) {
      button.addEventListener("click", () => {
        const on = button.getAttribute("aria-pressed") !== "true";
        button.setAttribute("aria-pressed", String(on));
        viewer.setExpression(button.dataset.expression, on ? 1 : 0);
      });
    }
  }
}
