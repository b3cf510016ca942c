"""A tiny SD-shaped pipeline built from configs with random weights (no download): a small UNet,
VAE, CLIP text model and a tokenizer over a vocabulary written here, saved as a diffusers folder."""
import json
import os

import torch
from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer


def letters_tokenizer(folder: str) -> CLIPTokenizer:
    """A CLIP tokenizer over single letters, written here (no vocabulary download)."""
    os.makedirs(folder, exist_ok=True)
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for letter in "abcdefghijklmnopqrstuvwxyz":
        vocab[letter] = len(vocab)
        vocab[letter + "</w>"] = len(vocab)
    with open(os.path.join(folder, "vocab.json"), "w") as f:
        json.dump(vocab, f)
    with open(os.path.join(folder, "merges.txt"), "w") as f:
        f.write("#version: 0.2\n")
    return CLIPTokenizer(os.path.join(folder, "vocab.json"), os.path.join(folder, "merges.txt"), model_max_length=77)


def tiny_vae() -> AutoencoderKL:
    """Four blocks, as in SD: images are 8× their latents, so a 512 px training stays small."""
    return AutoencoderKL(
        block_out_channels=(16, 32, 32, 32), in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4, latent_channels=4, norm_num_groups=16, sample_size=64)


def build(folder: str, seed: int = 0) -> str:
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=16, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32, attention_head_dim=8, norm_num_groups=32)
    vae = tiny_vae()
    text = CLIPTextModel(CLIPTextConfig(
        bos_token_id=0, eos_token_id=1, hidden_size=32, intermediate_size=37, layer_norm_eps=1e-05, num_attention_heads=4,
        num_hidden_layers=2, pad_token_id=1, vocab_size=100, projection_dim=32))
    tokenizer = letters_tokenizer(os.path.join(folder, "_vocabulary"))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False, set_alpha_to_one=False)
    pipeline = StableDiffusionPipeline(
        unet=unet, vae=vae, text_encoder=text, tokenizer=tokenizer, scheduler=scheduler, safety_checker=None, feature_extractor=None,
        requires_safety_checker=False)
    target = os.path.join(folder, "tiny-sd")
    pipeline.save_pretrained(target)
    return target


def build_captioner(folder: str, seed: int = 0) -> str:
    """A tiny BLIP captioning model with random weights and a small WordPiece vocabulary."""
    from transformers import BertTokenizer, BlipConfig, BlipForConditionalGeneration, BlipImageProcessorPil, BlipProcessor

    torch.manual_seed(seed)
    target = os.path.join(folder, "tiny-blip")
    os.makedirs(target, exist_ok=True)
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[DEC]"] + [w for w in "a the cat dog photo of red blue on in".split()]
    with open(os.path.join(target, "vocab.txt"), "w") as f:
        f.write("\n".join(words) + "\n")
    tokenizer = BertTokenizer(os.path.join(target, "vocab.txt"), bos_token="[DEC]")
    config = BlipConfig(
        text_config={"vocab_size": len(words), "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                     "intermediate_size": 37, "max_position_embeddings": 64, "bos_token_id": 5, "sep_token_id": 3,
                     "pad_token_id": 0, "eos_token_id": 3},
        vision_config={"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 37,
                       "image_size": 32, "patch_size": 8},
        projection_dim=32)
    BlipForConditionalGeneration(config).save_pretrained(target)
    processor = BlipProcessor(image_processor=BlipImageProcessorPil(size={"height": 32, "width": 32}), tokenizer=tokenizer)
    processor.save_pretrained(target)
    return target


def build_sdxl(folder: str, seed: int = 0) -> str:
    """A tiny SDXL-shaped pipeline: two text encoders (the second with a projection), a UNet with
    SDXL's size and pooled-text conditioning."""
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLPipeline
    from transformers import CLIPTextModelWithProjection

    sd15 = os.path.join(folder, "tiny-sd") if os.path.exists(os.path.join(folder, "tiny-sd")) else build(folder, seed)
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=16, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4), use_linear_projection=True, addition_embed_type="text_time", addition_time_embed_dim=8,
        transformer_layers_per_block=(1, 1), projection_class_embeddings_input_dim=80, cross_attention_dim=64, norm_num_groups=32)
    vae = tiny_vae()
    text_config = dict(bos_token_id=0, eos_token_id=1, hidden_size=32, intermediate_size=37, layer_norm_eps=1e-05,
                       num_attention_heads=4, num_hidden_layers=2, pad_token_id=1, vocab_size=100, projection_dim=32, hidden_act="gelu")
    text = CLIPTextModel(CLIPTextConfig(**text_config))
    text_2 = CLIPTextModelWithProjection(CLIPTextConfig(**text_config))
    tokenizer = CLIPTokenizer.from_pretrained(os.path.join(sd15, "tokenizer"))
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1,
                                       timestep_spacing="leading")
    pipeline = StableDiffusionXLPipeline(unet=unet, vae=vae, text_encoder=text, text_encoder_2=text_2, tokenizer=tokenizer,
                                         tokenizer_2=tokenizer, scheduler=scheduler)
    target = os.path.join(folder, "tiny-sdxl")
    pipeline.save_pretrained(target)
    return target
