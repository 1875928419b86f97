"""What is said and who says it: the text-to-speech engines, keyword-free sentences, the ``_unknown_``
vocabulary and the built-in word list."""
