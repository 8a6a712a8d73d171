// Room lobby: refreshes "who is waiting" every few seconds from /rooms/<code>/status.
// UI strings come from data attributes (translated in the template); user data goes in with
// textContent only.
const list = document.getElementById("rooms-participants");

function render(participants) {
  const items = [];
  for (const p of participants) {
    const li = document.createElement("li");
    const dot = document.createElement("span");
    dot.className = p.connected ? "rooms-dot on" : "rooms-dot";
    dot.setAttribute("aria-hidden", "true");
    li.append(dot, document.createTextNode(p.name));
    if (p.role === "guest" || p.role === "owner") {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = p.role === "guest" ? list.dataset.guest : list.dataset.owner;
      li.append(" ", badge);
    }
    if (!p.connected) {
      const away = document.createElement("span");
      away.className = "muted";
      away.textContent = list.dataset.away;
      li.append(" ", away);
    }
    items.push(li);
  }
  if (!items.length) {
    const li = document.createElement("li");
    li.className = "muted";
    li.textContent = list.dataset.empty;
    items.push(li);
  }
  list.replaceChildren(...items);
}

async function refresh() {
  try {
    const response = await fetch(list.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) return;
    const body = await response.json();
    render(body.participants || []);
    if (!body.is_open) return; // closed: stop polling
  } catch {
    // offline for a moment: try again on the next tick
  }
  setTimeout(refresh, 3000);
}

if (list) setTimeout(refresh, 3000);
