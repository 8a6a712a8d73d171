"""Reading a photo into avatar parameters: face landmarks (MediaPipe FaceLandmarker), then skin,
hair, eyes, face shape, glasses and clothing estimated from the landmarks and the pixels.

Nothing here keeps photo pixels: the output is numbers and colours, each with a confidence.
"""
