// Stream mode entry (templates/rooms/stream.html): your avatar on a transparent page for OBS.
import { StreamApp } from "../call/stream_app.js";

const root = document.getElementById("stream-app");
if (root) {
  const app = new StreamApp(root);
  /** Read-only numbers for the browser tests. */
  window.__afStream = {
    get kind() { return app.view ? app.view.kind : null; },
    get frames() { return app.view ? app.view.count : 0; },
    get trackingFaces() { return app.trackingFaces; },
    get trackingFps() { return app.trackRate.rate(); },
    get trackerMode() { return app.tracker ? app.tracker.mode : "off"; },
    get avatar() { return app.local.description; },
  };
  app.start().catch((err) => {
    console.error(err);
    app.showMessage("model_failed");
  });
}
