"""Photos and faces: upload, read paths, look-alikes and delete (no HTTP here)."""
