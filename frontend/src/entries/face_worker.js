// Bundle entry of the face tracking worker (loaded with `new Worker(url, {type: "module"})`).
import "../tracking/face_worker.js";
