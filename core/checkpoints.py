"""Hashes of the checkpoints this project trains and ships in assets/checkpoints/.

The registry (core.assets) pins every shipped file by its sha256 and refuses a file that differs.
After retraining, `python -m scripts.record_hashes` copies the hashes the training cards record
into this file; a unit test fails while it is out of date.
"""

EVALUATOR_MNIST_SHA256 = "80096615137bc4c24d4f6d20b19b28c8f3ca15e936d49940e52b51e2af6e553d"
EVALUATOR_FASHION_SHA256 = "2de86b69799f159e8ca7c47e8c054e77b39fde29a545f6d3d5dba414792467d6"
GPT_KJV_SHA256 = "514655a5fd71a2828632dd1033d044bf87a7f9f8e723925de3ac565be8ab0b1f"
# The shipped VAEs (python -m scripts.train <what> --dataset <data>): title, weights hash, and the
# hash of the fitted UMAP reducer beside the weights (16-D models only).
VAE_CHECKPOINTS: dict[str, tuple[str, str, str | None]] = {
    "vae-2d-mnist": (
        "MNIST, 2-D latent",
        "170d6625766051698bf073848b962d1fd3c0c55613fb284ab222d4d2d44397b6",
        None,
    ),
    "vae-2d-beta0.5-mnist": (
        "MNIST, 2-D latent, beta 0.5",
        "f2d4d8f65447f4da0c6c057d7ab2da76a450a93463d1247eb80b683d3dcca738",
        None,
    ),
    "vae-2d-beta4-mnist": (
        "MNIST, 2-D latent, beta 4",
        "1b9833fa00a3cadae2c2832f31f60df0a36e943ceafb21bb0bcd34939103c13c",
        None,
    ),
    "vae-16d-mnist": (
        "MNIST, 16-D latent",
        "04e81b8baabef7797dd2099e02e3c65baa5a26ad6cb9b49178595d2b2d65ae01",
        "c19635afd16a836758d71e8010691483f47fdfc80e84adb00dcca68f1aa3ddad",
    ),
    "vae-2d-fashion": (
        "Fashion-MNIST, 2-D latent",
        "b963b8733600468128aa110e8b0f2131189b91ad053f30397ae6e31231e952c5",
        None,
    ),
    "vae-16d-fashion": (
        "Fashion-MNIST, 16-D latent",
        "4f454f74b26711b379ad5ffb1ab106c5d6a00f27907c1fdf54157e0595d71c38",
        "47d3e5a83a4326fc14b0ab3e27a73bbc5a7119c0e09d2a6f491b406bce5e922b",
    ),
}

# The shipped DCGAN snapshot series (python -m scripts.train dcgan --dataset <data>): title,
# weights hash (every snapshot of the generator in one file), no extra file.
DCGAN_CHECKPOINTS: dict[str, tuple[str, str, str | None]] = {
    "dcgan-mnist": (
        "MNIST",
        "e21a4c51060c55cf554fdee298fa0cd72ef7c1ccc7e14b691f98a9a426b3719c",
        None,
    ),
    "dcgan-fashion": (
        "Fashion-MNIST",
        "98b0d40bd321b8e48d07394a67076e2a1520fac1d68193f4e643dbefa2e592ee",
        None,
    ),
}

# The shipped image DDPMs (python -m scripts.train ddpm --dataset <data>): title, weights hash, no extra file.
DDPM_CHECKPOINTS: dict[str, tuple[str, str, str | None]] = {
    "ddpm-mnist": (
        "MNIST",
        "32c255ed5384004bcbfe865feccea8380d7951df45e75d7992e4c051c3e44034",
        None,
    ),
    "ddpm-fashion": (
        "Fashion-MNIST",
        "1c59ccf9f356fc889dfecd25cbf51b3b47180147b5c72d60fc0b986bd79dea83",
        None,
    ),
}

# The shipped image flows (python -m scripts.train flow --dataset <data>): title, weights hash, no extra file.
FLOW_CHECKPOINTS: dict[str, tuple[str, str, str | None]] = {
    "flow-mnist": (
        "MNIST",
        "8d526fabf45a2109d95ab56b8495011a16e2a3b83ff4d2ad30a26ba7f3b27e59",
        None,
    ),
    "flow-fashion": (
        "Fashion-MNIST",
        "293b4bce838cdaa1e93acbb8dc7752347a5a07c8b251bc320dafa15d6dc2fd65",
        None,
    ),
}

# TinySD (python -m scripts.train tinysd --dataset captioned), a diffusers pipeline folder in
# assets/checkpoints/tinysd-captioned/: every file inside it and its hash.
TINYSD_CAPTIONED_FILES: dict[str, str] = {
    "model_index.json": "d34ebfa1831c9990a5ed7986d550296516da01394d6eb9a128d444557a84d513",
    "scheduler/scheduler_config.json": "28d1a009dfa466938be057413130d37105fb555c44c7c403af4cbdb4c3194f5c",
    "text_encoder/config.json": "dab82007cfbd87ba4a076375d139056a423a0e784e519dfb921aad648ae4774e",
    "text_encoder/model.safetensors": "c45b4b6cf8c5de1f57d3ef6ecc773bf2747dca877dce75f743c00acb3a7cb9b6",
    "tokenizer/tokenizer.json": "98280376f566d5c3a397eb49033aa9c1c88a3fdddd6ebe236f55accf97840a84",
    "tokenizer/tokenizer_config.json": "e77122351ac60ce3c2de467caa449985b178cee33b4ce8f3d8f216d7674c23bd",
    "unet/config.json": "0841fc6a2b9da4eb6e92bf0c4b03bcde613a1985948a3f631d1a45d5f777a0d3",
    "unet/diffusion_pytorch_model.safetensors": "675bcfb7bc1adb7833eabf7533429538ce7719cf0b8ba756dd0e7eff1fbd07e4",
    "vae/config.json": "1d87e5c5ad0a9ec99fe98aa5566d0b9f68df683a137ec644e5ffb3d207468222",
    "vae/diffusion_pytorch_model.safetensors": "23c52f5204ab87fdf7e99278caa735d82a4afe1610594d3676a81fbecf3135d2",
}
