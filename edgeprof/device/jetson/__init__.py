"""The Jetson family: board detection, nvpmodel and jetson_clocks, the power-mode
controller, GPU devfreq clocks, INA3221/INA238 rails and tegrastats."""
