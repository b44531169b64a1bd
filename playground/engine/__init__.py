"""Running models: GGUF files, memory estimates, model discovery, the worker process that owns
llama.cpp, local and remote backends, saved endpoints.
"""
