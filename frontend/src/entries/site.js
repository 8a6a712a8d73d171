// Shared page helpers, loaded by base.html on every page. A bundled module rather than an inline
// script or handler attributes, so the Content-Security-Policy needs no 'unsafe-inline'.
// Progressive: every form still works without them. A form with data-busy disables the pressed
// button and shows that text (or the button's own data-busy) while the next page loads;
// data-confirm on the form or the button asks first; a button with data-copy="#field" copies the
// field; a <select data-autosubmit> submits its form on change. Text comes translated from data
// attributes.

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (event.defaultPrevented || !(form instanceof HTMLFormElement)) return;
  const button = event.submitter || form.querySelector("[type=submit]");
  const question = (button && button.dataset.confirm) || form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  if (!button || !form.hasAttribute("data-busy")) return;
  const busyText = button.dataset.busy || form.dataset.busy;
  // After this tick, so the button's own name and value are still submitted.
  setTimeout(() => {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    if (busyText) {
      button.dataset.label = button.textContent;
      button.textContent = busyText;
    }
  }, 0);
});

document.addEventListener("change", (event) => {
  const select = event.target;
  if (select instanceof HTMLSelectElement && select.hasAttribute("data-autosubmit") && select.form) {
    select.form.submit();
  }
});

window.addEventListener("pageshow", () => {
  // Back button: the page may come from the cache with its buttons still busy.
  document.querySelectorAll("[aria-busy=true]").forEach((button) => {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    if (button.dataset.label) button.textContent = button.dataset.label;
  });
});

document.addEventListener("click", (event) => {
  const button = event.target.closest ? event.target.closest("[data-copy]") : null;
  const field = button && document.querySelector(button.dataset.copy);
  if (!field) return;
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  const done = () => {
    button.textContent = button.dataset.copied || label;
    setTimeout(() => {
      button.textContent = label;
    }, 2000);
  };
  const text = field.value !== undefined ? field.value : field.textContent;
  const fallback = () => {
    // Plain http on a LAN address has no clipboard API.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch {
      copied = false;
    }
    area.remove();
    if (copied) done();
    else if (field.select) field.select(); // selected: Ctrl+C still works
  };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, fallback);
  else fallback();
});
