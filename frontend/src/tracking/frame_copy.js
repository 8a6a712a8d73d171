// Camera frames for a slow reader (the body and hand trackers): copied out and given back at
// once. While any reader holds a VideoFrame, the camera delivers no new frame to anyone reading
// the same camera (measured in Chromium: a second reader holding each frame 100 ms dropped the
// face tracker from 30 to 10 results a second; one that closed at once and slept 100 ms cost it
// nothing). So the frame is copied as RGBA (a plain memory copy with the colour conversion, well
// under a millisecond at 640x480) and closed before the resize and the inference, which take
// tens of milliseconds on a busy machine.

/** The RGBA copy of `frame`, or null where copyTo cannot convert (older browsers). */
export async function copyRgba(frame, ImageDataCtor = globalThis.ImageData) {
  const format = "RGBA";
  try {
    const { width, height } = frame.visibleRect;
    const pixels = new Uint8ClampedArray(frame.allocationSize({ format }));
    await frame.copyTo(pixels, { format });
    return new ImageDataCtor(pixels, width, height);
  } catch {
    return null;
  }
}

/**
 * An ImageBitmap of `frame` at most `targetWidth` wide (its shape kept), or null if it could not
 * be made. `frame` is closed when this returns, and before the resize wherever copyTo converts.
 * `env` holds createImageBitmap and ImageData (the worker's own by default; tests pass fakes).
 */
export async function scaledBitmap(frame, targetWidth, env = globalThis) {
  const w = frame.displayWidth;
  const h = frame.displayHeight;
  const size = w > targetWidth
    ? { resizeWidth: targetWidth, resizeHeight: Math.round((h * targetWidth) / w), resizeQuality: "low" }
    : {};
  const copy = await copyRgba(frame, env.ImageData);
  try {
    if (copy) {
      frame.close();
      return await env.createImageBitmap(copy, size);
    }
    return await env.createImageBitmap(frame, size); // the frame is held while it converts
  } catch {
    return null;
  } finally {
    frame.close();
  }
}
