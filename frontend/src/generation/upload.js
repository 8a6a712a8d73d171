// Upload page: drag and drop onto the drop zone, a local preview, client-side type/size checks
// (the server checks again), the heads slider's read-out, and a busy state while uploading.
// Messages come from the form's data attributes (translated by the template).

export const ACCEPTED_TYPES = ["image/jpeg", "image/png", "image/webp"];

/** Why a file cannot be uploaded, or null. */
export function fileProblem(file, maxBytes) {
  if (!file) return "type";
  if (!ACCEPTED_TYPES.includes(file.type)) return "type";
  if (maxBytes && file.size > maxBytes) return "size";
  return null;
}

export function initUpload(form) {
  const input = form.querySelector("#gen-image");
  const drop = form.querySelector("#gen-drop");
  const preview = form.querySelector("#gen-preview");
  const hint = form.querySelector(".gen-drop-text");
  const error = form.querySelector("#gen-file-error");
  const submit = form.querySelector("#gen-submit");
  const maxBytes = Number(form.dataset.maxBytes || 0);
  let objectUrl = null;

  function showError(text) {
    error.textContent = text || "";
    error.hidden = !text;
  }

  function choose(file) {
    const problem = fileProblem(file, maxBytes);
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = null;
    if (problem) {
      preview.hidden = true;
      hint.hidden = false;
      showError(problem === "size" ? form.dataset.msgSize : form.dataset.msgType);
      return false;
    }
    showError("");
    objectUrl = URL.createObjectURL(file);
    preview.src = objectUrl;
    preview.hidden = false;
    hint.hidden = true;
    return true;
  }

  input.addEventListener("change", () => choose(input.files[0]));
  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (event) => {
      event.preventDefault();
      drop.classList.add("is-over");
    });
  }
  for (const type of ["dragleave", "dragend"]) drop.addEventListener(type, () => drop.classList.remove("is-over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("is-over");
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (!file) return;
    const transfer = new DataTransfer();
    transfer.items.add(file);
    input.files = transfer.files;
    choose(file);
  });

  const heads = form.querySelector("#gen-heads");
  const headsOut = form.querySelector("#gen-heads-out");
  if (heads && headsOut) heads.addEventListener("input", () => { headsOut.textContent = Number(heads.value).toFixed(1); });

  form.addEventListener("submit", (event) => {
    if (fileProblem(input.files[0], maxBytes)) {
      event.preventDefault();
      choose(input.files[0]);
      return;
    }
    submit.disabled = true;
    submit.textContent = form.dataset.msgUploading;
  });
}
