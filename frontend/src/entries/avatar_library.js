import { csrfToken } from "../csrf.js";
import { el } from "../dom.js";
// Avatar library page: drag-and-drop upload through the REST API with a progress bar and a
// clear result per file (added / duplicate / name conflict with overwrite-or-keep-both / error).
// After an avatar is added the grid below is refreshed in place from the page itself, so the
// cards stay the server's markup (one source of truth) and nobody has to reload.
// All UI text comes from the page (#avatar-upload-strings); user data only goes into textContent.

const form = document.getElementById("avatar-upload-form");
const results = document.getElementById("avatar-upload-results");


if (form && results) {
  const strings = JSON.parse(document.getElementById("avatar-upload-strings").textContent);
  const input = form.querySelector("input[type=file]");
  const dropzone = document.getElementById("avatar-dropzone");
  const maxBytes = Number(form.dataset.maxBytes) || Infinity;
  const apiUrl = form.dataset.api;
  const detailUrl = (id) => `${form.dataset.library}${encodeURIComponent(id)}/`;
  let refreshing = null;
  let refreshAgain = false;

  // Replace #avatar-library with the same element from a fresh copy of this page. Uploads that
  // finish while a refresh is in flight ask for one more, so the last one always shows.
  async function refreshLibrary() {
    if (refreshing) {
      refreshAgain = true;
      return refreshing;
    }
    refreshing = (async () => {
      do {
        refreshAgain = false;
        try {
          const response = await fetch(location.pathname + location.search, { credentials: "same-origin", headers: { Accept: "text/html" } });
          if (!response.ok) break;
          const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("avatar-library");
          const current = document.getElementById("avatar-library");
          if (fresh && current) current.replaceWith(document.importNode(fresh, true));
        } catch {
          break; // the results list still links each new avatar
        }
      } while (refreshAgain);
      refreshing = null;
    })();
    return refreshing;
  }

  const declarations = () => ({
    owner_is_author: form.elements.owner_is_author.checked,
    owner_has_license: form.elements.owner_has_license.checked,
  });

  function upload(file, onConflict, row) {
    const item = row || el("li", { "data-file": file.name });
    item.replaceChildren();
    const status = el("p", { class: "status", text: strings.uploading });
    const bar = el("progress", { max: "100", value: "0" });
    item.append(el("p", { class: "av-file", text: file.name }), bar, status);
    if (!row) results.append(item);

    const lower = file.name.toLowerCase();
    if (!lower.endsWith(".vrm") && !lower.endsWith(".glb")) {
      return finish(item, "fail", strings.wrongType);
    }
    if (file.size > maxBytes) {
      return finish(item, "fail", strings.tooLarge);
    }

    const data = new FormData();
    data.append("file", file);
    const choice = onConflict || form.elements.on_conflict.value;
    if (choice) data.append("on_conflict", choice);
    for (const [key, value] of Object.entries(declarations())) data.append(key, value ? "true" : "false");

    const xhr = new XMLHttpRequest();
    xhr.open("POST", apiUrl);
    xhr.setRequestHeader("X-CSRFToken", csrfToken(form));
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) bar.value = Math.round((event.loaded / event.total) * 100);
    });
    xhr.upload.addEventListener("load", () => {
      bar.value = 100;
      status.textContent = strings.processing;
    });
    xhr.addEventListener("error", () => finish(item, "fail", strings.network));
    xhr.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch { body = {}; }
      if (xhr.status === 201) {
        finish(item, "ok", strings.done, [el("a", { class: "button small", href: detailUrl(body.id), text: strings.open })]);
        refreshLibrary();
        return;
      }
      const message = body.message || `${strings.failed} (HTTP ${xhr.status})`;
      if (body.code === "avatar_duplicate") {
        finish(item, "ask", message, [el("a", { class: "button small secondary", href: detailUrl(body.details.existing_id), text: strings.open })]);
      } else if (body.code === "avatar_name_conflict") {
        const overwrite = el("button", { type: "button", class: "button small", text: strings.overwrite });
        const both = el("button", { type: "button", class: "button small secondary", text: strings.keepBoth });
        const cancel = el("button", { type: "button", class: "button small secondary", text: strings.cancel });
        overwrite.addEventListener("click", () => upload(file, "overwrite", item));
        both.addEventListener("click", () => upload(file, "keep_both", item));
        cancel.addEventListener("click", () => item.remove());
        finish(item, "ask", message, [overwrite, both, cancel]);
      } else {
        finish(item, "fail", message);
      }
    });
    xhr.send(data);
    return item;
  }

  function finish(item, kind, message, actions = []) {
    const bar = item.querySelector("progress");
    if (bar && kind !== "ok") bar.remove();
    const status = item.querySelector(".status");
    status.className = `status ${kind}`;
    status.textContent = message;
    item.dataset.result = kind;
    if (actions.length) item.append(el("div", { class: "actions" }, actions));
    return item;
  }

  function uploadAll(files) {
    for (const file of files) upload(file);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    uploadAll(input.files);
    input.value = "";
  });
  input.addEventListener("change", () => {
    uploadAll(input.files);
    input.value = "";
  });
  for (const type of ["dragenter", "dragover"]) {
    dropzone.addEventListener(type, (event) => {
      event.preventDefault();
      dropzone.classList.add("is-over");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    dropzone.addEventListener(type, () => dropzone.classList.remove("is-over"));
  }
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    uploadAll(event.dataTransfer.files);
  });
  input.required = false;
}
