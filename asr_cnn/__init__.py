"""asr_cnn: keyword spotting with convolutional networks that stream exactly."""
