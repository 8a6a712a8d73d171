// Silero VAD in the page (@ricky0123/vad-web on onnxruntime-web, both served from static/dist/vad;
// nothing from a CDN) feeding the BargeDetector. If the VAD cannot start (an old browser, WASM
// refused), the conversation goes on with the worker's own speech barge-in, and the stats say why.
import { MicVAD } from "@ricky0123/vad-web";
import { BargeDetector, frameLevel } from "./barge_detector.js";

export async function startBrowserVad({ stream, assetBase, audioContext, state, onBargeIn }) {
  const detector = new BargeDetector();
  const vad = await MicVAD.new({
    model: "v5",
    audioContext, // the page's meter context: no second one
    baseAssetPath: assetBase,
    onnxWASMBasePath: assetBase,
    // The conversation's own stream: the VAD never opens a second microphone.
    getStream: async () => stream,
    pauseStream: async () => {},
    resumeStream: async () => stream,
    ortConfig: (ort) => {
      ort.env.logLevel = "error";
      ort.env.wasm.numThreads = 1; // the page is not cross-origin isolated: no threads
    },
    onFrameProcessed: (probabilities, frame) => {
      const fire = detector.push({
        probability: probabilities.isSpeech,
        micLevel: frameLevel(frame),
        outputLevel: state.outputLevel(),
        speaking: state.speaking(),
      });
      if (fire) onBargeIn();
    },
  });
  return { vad, detector }; // started on load
}
