"""Style transfer (seed 004 section 5.7): a photo becomes a 2D stylized portrait, as its own job."""
