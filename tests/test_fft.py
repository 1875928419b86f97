"""Fast FFT sizes: 5-smooth, never shorter than asked, the shortest such."""

from asr_cnn.fft import fft_size


def test_fft_sizes_are_5_smooth_and_shortest():
    assert [fft_size(n) for n in (0, 1, 7, 2049, 16000, 17024, 31999)] == [1, 1, 8, 2160, 16000, 17280, 32000]
    for n in range(2, 400):
        size = rest = fft_size(n)
        for radix in (2, 3, 5):
            while rest % radix == 0:
                rest //= radix
        assert rest == 1 and size >= n and all(fft_size(m) == size for m in range(n, size + 1))
