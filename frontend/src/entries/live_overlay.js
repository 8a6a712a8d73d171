// OBS overlay / avatar source page (templates/live/overlay.html).
import { OverlayPage } from "../live/overlay.js";

const page = new OverlayPage(document);
page.start();
window.__overlay = page; // for the browser test and debugging
