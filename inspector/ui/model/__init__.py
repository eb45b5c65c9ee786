"""The model: load a GGUF file or connect to a server, its settings and information."""
