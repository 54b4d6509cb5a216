"""The NVIDIA GPU family: CUDA enumeration, profiles by card name, NVML telemetry."""
