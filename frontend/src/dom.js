// Tiny DOM builder shared by page scripts. Text goes through textContent, never innerHTML,
// so user-supplied strings (avatar titles, file names) cannot inject markup.
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}
