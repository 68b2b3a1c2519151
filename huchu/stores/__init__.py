"""Object storage (images) and the vector store (faces, photos), behind small interfaces."""
