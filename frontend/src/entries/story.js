// The story page: sends {type: "generate"} over /ws/story/, shows the tokens as they stream
// (textContent only: the model's text is never parsed as markup), then replaces them with the
// chapters of the "done" frame. Stop sends {type: "cancel"}: the server closes the model's stream.
import { el } from "../dom.js";
import { ReconnectingSocket, wsUrl } from "../ws.js";

const form = document.querySelector("[data-story-form]");
if (form) {
  const cfg = JSON.parse(document.getElementById("story-config").textContent);
  const t = JSON.parse(document.getElementById("story-strings").textContent);
  const prompt = form.querySelector("[data-story-prompt]");
  const length = form.querySelector("[data-story-length]");
  const style = form.querySelector("[data-story-style]");
  const write = form.querySelector("[data-story-write]");
  const stop = form.querySelector("[data-story-stop]");
  const status = document.querySelector("[data-story-status]");
  const output = document.querySelector("[data-story-output]");
  const stream = document.querySelector("[data-story-stream]");
  const chapters = document.querySelector("[data-story-chapters]");
  let busy = false;

  const setBusy = (value) => {
    busy = value;
    write.disabled = value;
    stop.hidden = !value;
  };

  const showChapters = (story) => {
    chapters.replaceChildren(
      ...story.chapters.map((c) => {
        const paragraphs = c.text.split(/\n\s*\n/).map((p) => el("p", { text: p.trim() }));
        return el("section", { class: "story-chapter" }, [...(c.title ? [el("h2", { text: c.title })] : []), ...paragraphs]);
      }),
    );
    stream.textContent = "";
    stream.hidden = true;
  };

  const onFrame = (f) => {
    switch (f.type) {
      case "ready":
        form.dataset.ready = "1"; // the browser tests wait for this
        break;
      case "start":
        status.textContent = t.writing;
        break;
      case "token":
        stream.append(f.text);
        break;
      case "done": {
        setBusy(false);
        showChapters(f.story);
        let note = t.done.replace("%(words)s", String(f.story.word_count)).replace("%(chapters)s", String(f.story.chapters.length));
        if (f.story.end === "loop_cut") note += " " + t.loopCut;
        if (f.story.end === "max_tokens") note += " " + t.maxTokens;
        status.textContent = note;
        break;
      }
      case "cancelled":
        setBusy(false);
        status.textContent = t.stopped;
        break;
      case "error":
        setBusy(false);
        status.textContent = f.message;
        break;
      default:
        break;
    }
  };

  const ws = new ReconnectingSocket(wsUrl(cfg.wsPath), {
    terminalCodes: [4401],
    onMessage: onFrame,
    onClose: ({ terminal }) => {
      delete form.dataset.ready;
      if (busy) setBusy(false);
      if (!terminal) status.textContent = t.connectionLost;
    },
  });
  ws.connect();

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (busy) return;
    const sent = ws.send({ type: "generate", prompt: prompt.value, length: length.value, style: style.value });
    if (!sent) {
      status.textContent = t.notConnected;
      return;
    }
    setBusy(true);
    output.hidden = false;
    stream.hidden = false;
    stream.textContent = "";
    chapters.replaceChildren();
    status.textContent = t.writing;
  });

  stop.addEventListener("click", () => {
    ws.send({ type: "cancel" });
  });
}
