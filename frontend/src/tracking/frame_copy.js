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
  // A track that scales its frames (adaptive quality's smaller face input) gives frames whose
  // visible rect is the camera's whole picture and whose display size is the track's: the copy
  // has the first size, the result the smaller of the second and the target.
  const w = Math.min(targetWidth, frame.displayWidth);
  const h = Math.round((frame.displayHeight * w) / frame.displayWidth);
  const copy = await copyRgba(frame, env.ImageData);
  const size = (copy ? copy.width : frame.displayWidth) > w ? { resizeWidth: w, resizeHeight: h, resizeQuality: "low" } : {};
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
