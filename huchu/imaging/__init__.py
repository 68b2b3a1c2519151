"""Image decoding, resizing and encoding shared by every caller."""
