"""What happens to sound between mouth and model: rooms, devices and links, noise and music, levels and
trimming of clips, and the augmentation that draws them for training (waveforms and features)."""
