// Streamer's live dashboard page (templates/live/detail.html).
import { LiveDashboard } from "../live/dashboard.js";

const config = JSON.parse(document.getElementById("live-dashboard-config").textContent);
const page = new LiveDashboard(document, config);
page.start();
window.__liveDashboard = page; // for the browser test and debugging
