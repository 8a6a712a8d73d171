// The one CSRF helper of the front end: every page that POSTs/PATCHes takes its token here.
// Where it comes from, first found wins:
//   1. a `data-csrf` attribute on the scope element (the call page renders `{{ csrf_token }}`),
//   2. a `csrfmiddlewaretoken` input inside the scope (any form with `{% csrf_token %}`),
//   3. the `csrftoken` cookie (Django's default, readable by scripts).
// The scope defaults to the whole document. No globals at call time besides that default.

function fromCookie(cookie) {
  const m = String(cookie || "").match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (!m) return "";
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}

/**
 * @param {Element|Document} [scope] where to look for data-csrf / the form input
 * @param {{cookie?:string}} [doc] the document whose cookie is the last resort
 */
export function csrfToken(scope = globalThis.document, doc = globalThis.document) {
  if (scope && scope.dataset && scope.dataset.csrf) return scope.dataset.csrf;
  const input = scope && typeof scope.querySelector === "function" ? scope.querySelector("input[name=csrfmiddlewaretoken]") : null;
  if (input && input.value) return input.value;
  return fromCookie(doc && doc.cookie);
}

/** `headers` plus X-CSRFToken (a new object; the argument is not changed). */
export function withCsrf(headers = {}, scope, doc) {
  return { ...headers, "X-CSRFToken": csrfToken(scope, doc) };
}
