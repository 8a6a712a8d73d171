// csrf.js: the one CSRF helper. Where the token comes from (data-csrf, the form's hidden input,
// the cookie), in that order, and the header it adds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { csrfToken, withCsrf } from "../src/csrf.js";

/** Just enough of an element: dataset and querySelector for the hidden input. */
function scope({ dataCsrf, input } = {}) {
  return {
    dataset: dataCsrf === undefined ? {} : { csrf: dataCsrf },
    querySelector: (sel) => (sel === "input[name=csrfmiddlewaretoken]" && input !== undefined ? { value: input } : null),
  };
}
const doc = (cookie) => ({ cookie });

test("data-csrf on the scope wins over the form input and the cookie", () => {
  assert.equal(csrfToken(scope({ dataCsrf: "attr", input: "input" }), doc("csrftoken=cookie")), "attr");
});

test("the form's csrfmiddlewaretoken comes next", () => {
  assert.equal(csrfToken(scope({ input: "input" }), doc("csrftoken=cookie")), "input");
  assert.equal(csrfToken(scope({ dataCsrf: "", input: "input" }), doc("csrftoken=cookie")), "input");
});

test("the csrftoken cookie is the last resort, found among others and decoded", () => {
  assert.equal(csrfToken(scope(), doc("sessionid=s; csrftoken=ab%2Bc; theme=dark")), "ab+c");
  assert.equal(csrfToken(scope(), doc("csrftoken=first")), "first");
  assert.equal(csrfToken(scope(), doc("xcsrftoken=no; mycsrftoken=no")), "");
  assert.equal(csrfToken(scope(), doc("csrftoken=%E0%A4%A")), "%E0%A4%A"); // malformed: as is
});

test("no token anywhere gives an empty string, not an exception", () => {
  assert.equal(csrfToken(scope(), doc("")), "");
  assert.equal(csrfToken(null, doc(undefined)), "");
  assert.equal(csrfToken(scope({ input: "" }), doc("")), "");
});

test("withCsrf adds the header to a copy", () => {
  const base = { Accept: "application/json" };
  const out = withCsrf(base, scope({ dataCsrf: "tok" }), doc(""));
  assert.deepEqual(out, { Accept: "application/json", "X-CSRFToken": "tok" });
  assert.deepEqual(base, { Accept: "application/json" });
});
