// MediaPipe's WebAssembly writes its log to stderr, which Emscripten prints with console.error.
// Its INFO lines ("INFO: Created TensorFlow Lite XNNPACK delegate for CPU.") are no errors, and
// pages such as stream mode run inside OBS, whose log takes every console error as one. Called
// in a tracking worker before the WebAssembly loads (the loader binds console.error as it loads).

/** Route `con.error` lines that start with "INFO: " to `con.info`; everything else as before. */
export function infoLinesAsInfo(con = console) {
  const error = con.error.bind(con);
  con.error = (...args) => {
    if (typeof args[0] === "string" && args[0].startsWith("INFO: ")) con.info(...args);
    else error(...args);
  };
}
