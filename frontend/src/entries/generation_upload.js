import { initUpload } from "../generation/upload.js";

const form = document.getElementById("gen-upload");
if (form) initUpload(form);
