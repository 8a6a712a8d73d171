import { JobPage } from "../generation/job.js";

const root = document.getElementById("gen-job");
if (root) {
  const data = JSON.parse(document.getElementById("gen-job-data").textContent);
  const strings = JSON.parse(document.getElementById("gen-strings").textContent);
  new JobPage(root, data, strings).start();
}
