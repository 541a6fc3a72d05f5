"""Handcrafted degradations: batched, per-sample kernels (blur, sinc, resize, noise, JPEG, USM) and the
four models of the paper's Fig. 4 (bicubic, classical, BSRGAN, Real-ESRGAN) as registered stages."""
