// Built-in 2D characters, drawn by the project as Canvas vector layers (no image files). Other
// features import this list (the chat page shows a character by its 2D key, e.g. "builtin:fox").
//
// Each character is a style description read by renderer2d.js: palette, head shape, ears, eye
// style, mouth style and extras. Names are English defaults; pages pass translated names.

export const BUILTIN_CHARACTERS = Object.freeze([
  Object.freeze({
    key: "builtin:fox",
    name: "Fox",
    head: "fox",
    ears: "fox",
    eyes: "round",
    mouth: "muzzle",
    extras: ["muzzle", "cheekFur"],
    palette: {
      bg: ["#ffe9d6", "#ffd2b0"],
      body: "#e9773a",
      bodyShade: "#c85f27",
      head: "#f08a45",
      headShade: "#d8702f",
      earInner: "#3b2a26",
      muzzle: "#fff6ec",
      eyeWhite: "#ffffff",
      iris: "#9a5b12",
      pupil: "#1d130c",
      lid: "#d8702f",
      line: "#3b2a26",
      brow: "#7a3f17",
      mouthInner: "#5b1f1f",
      tongue: "#ef7a86",
      cheek: "#ff8a8a",
      nose: "#2b1d19",
    },
  }),
  Object.freeze({
    key: "builtin:robot",
    name: "Robot",
    head: "robot",
    ears: "bolts",
    eyes: "led",
    mouth: "grille",
    extras: ["antenna", "visor"],
    palette: {
      bg: ["#e3f0ff", "#c5dcf7"],
      body: "#8796a8",
      bodyShade: "#6b798a",
      head: "#b9c6d4",
      headShade: "#95a3b3",
      earInner: "#5d6b7c",
      muzzle: "#26313d",
      eyeWhite: "#26313d",
      iris: "#5ef0ff",
      pupil: "#d9fcff",
      lid: "#95a3b3",
      line: "#3d4856",
      brow: "#3d4856",
      mouthInner: "#26313d",
      tongue: "#5ef0ff",
      cheek: "#ff9fb8",
      nose: "#3d4856",
    },
  }),
  Object.freeze({
    key: "builtin:cat",
    name: "Cat",
    head: "round",
    ears: "cat",
    eyes: "cat",
    mouth: "cat",
    extras: ["whiskers", "stripes"],
    palette: {
      bg: ["#eef3e6", "#d9e6cc"],
      body: "#8c8f99",
      bodyShade: "#747782",
      head: "#a5a8b3",
      headShade: "#8d909b",
      earInner: "#f2a7b5",
      muzzle: "#f1f1f4",
      eyeWhite: "#d8f08a",
      iris: "#8dc63f",
      pupil: "#14170f",
      lid: "#8d909b",
      line: "#34353b",
      brow: "#55575f",
      mouthInner: "#6b2530",
      tongue: "#f28a9a",
      cheek: "#ff9fb0",
      nose: "#e07a8c",
    },
  }),
]);

export const DEFAULT_2D_KEY = "builtin:fox";
export const BUILTIN_KEYS = Object.freeze(BUILTIN_CHARACTERS.map((c) => c.key));

export function isBuiltinKey(key) {
  return BUILTIN_KEYS.includes(key);
}

/** The character for a key; unknown keys get the default (never throws on bad input). */
export function getCharacter(key) {
  return BUILTIN_CHARACTERS.find((c) => c.key === key) || BUILTIN_CHARACTERS[0];
}
