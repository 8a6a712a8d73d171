// Call page entry (templates/rooms/call.html).
import { CallApp } from "../call/app.js";

const root = document.getElementById("call-app");
if (root) {
  const app = new CallApp(root);
  window.__afCall = app;
  app.start().catch((err) => {
    console.error(err);
    app.ui.showMessage("generic", "error");
  });
}
