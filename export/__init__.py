"""Export: checkpoint → checked, simplified ONNX (fp32, fp16, calibrated int8), each gated by a parity check."""
