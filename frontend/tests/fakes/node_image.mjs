// GLTFLoader decodes textures through an <img>; Node has none, so this stand-in reports "loaded".
// Import it before three / the viewer (it installs globals).
globalThis.self = globalThis;
globalThis.document = {
  createElementNS() {
    const listeners = {};
    const img = {
      width: 1,
      height: 1,
      addEventListener(type, fn) { (listeners[type] ||= []).push(fn); },
      removeEventListener() {},
      set src(_value) { setTimeout(() => (listeners.load || []).forEach((fn) => fn.call(img, {})), 0); },
    };
    return img;
  },
};
