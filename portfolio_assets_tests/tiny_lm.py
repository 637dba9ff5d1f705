"""A tiny, randomly initialised causal LM and a byte-level BPE tokenizer trained on given texts, for running
TRL's ``SFTTrainer`` on exported files in seconds on a CPU (no network, no downloaded weights).

The chat template is ChatML-like: each message is ``<|im_start|>{role}\\n{content}<|im_end|>\\n``, and the
generation prompt is ``<|im_start|>assistant\\n``, so a conversational prompt renders the same alone as in front
of its completion (TRL's completion mask needs the tokenized prompt to be a prefix). ``<|im_end|>`` is the EOS
token: TRL appends it to a standard completion, and the template closes every message with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
from transformers.trainer_utils import TrainOutput
from trl import SFTConfig, SFTTrainer

PAD, EOS, START = "<|pad|>", "<|im_end|>", "<|im_start|>"
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
VOCAB_SIZE = 400
MAX_STEPS = 3


def train_tokenizer(texts: Iterable[str], vocab_size: int = VOCAB_SIZE) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer (every byte is a token, so any text encodes) trained on ``texts``, with pad /
    EOS / chat special tokens and ``CHAT_TEMPLATE``."""
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, EOS, START],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(texts, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, pad_token=PAD, eos_token=EOS)
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def tiny_model(tokenizer: PreTrainedTokenizerFast, max_positions: int = 4096, seed: int = 0) -> LlamaForCausalLM:
    """A 2-layer Llama (hidden size 32, 2 heads), randomly initialised with ``seed``, sized to ``tokenizer``."""
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=max_positions,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
    )
    return LlamaForCausalLM(config)


def sft_config(output_dir: Path, *, max_steps: int = MAX_STEPS, seed: int = 0) -> SFTConfig:
    """CPU, fp32, no checkpointing, saving, logging or reporting; whole sequences (no truncation, so no row
    loses its completion)."""
    return SFTConfig(
        output_dir=str(output_dir),
        max_steps=max_steps,
        per_device_train_batch_size=2,
        learning_rate=1e-3,
        use_cpu=True,
        bf16=False,
        fp16=False,
        activation_checkpointing=False,
        max_length=None,
        report_to=[],
        save_strategy="no",
        logging_strategy="no",
        eval_strategy="no",
        disable_tqdm=True,
        dataloader_num_workers=0,
        dataloader_pin_memory=False,
        seed=seed,
        data_seed=seed,
    )


def run_sft(
    train_dataset: object, tokenizer: PreTrainedTokenizerFast, output_dir: Path
) -> tuple[SFTTrainer, TrainOutput]:
    """``SFTTrainer`` on ``train_dataset`` as given (no formatting function, no mapping), trained ``MAX_STEPS``
    steps: the trainer (its ``train_dataset`` is TRL's prepared, tokenized dataset) and the training's output."""
    trainer = SFTTrainer(
        model=tiny_model(tokenizer),
        args=sft_config(output_dir),
        train_dataset=train_dataset,
        processing_class=tokenizer,
    )
    return trainer, trainer.train()
