"""A keyword corpus on disk: its config, plan, synthesis, background noise, running speech, test streams,
manifest and labels, and the real read speech that ships with the package."""
