"""One real GRPO step on CPU with SupportGymToolEnv as TRL's environment_factory.

The model is the small GGUF the LLM-server scripts fetch (scripts/fetch-smollm: SmolLM2-135M,
no model hub needed), loaded through transformers' GGUF reader. SmolLM2 speaks ChatML but its own
template has no tools, so it is given TRL's Qwen2.5 template (also ChatML, with <tool_call>).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.parts import require_part

pytestmark = pytest.mark.slow

MODEL = (
    Path(os.environ.get("SUPPORTGYM_CACHE", Path.home() / ".cache" / "supportgym"))
    / "models"
    / ("SmolLM2-135M-Instruct.Q4_1.gguf")
)


def _trainable_model(path: Path) -> tuple[object, object]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl.chat_template_utils import qwen2_5_chat_template

    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    tokenizer.chat_template = qwen2_5_chat_template
    loaded = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32)
    # GGUF weights arrive dequantized but flagged as quantized, which Trainer refuses to train:
    # copy them into a plain model of the same config.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    model.tie_weights()
    return model, tokenizer


def test_one_grpo_step_on_cpu(tmp_path: Path) -> None:
    # Imported here, not at module level: torch and trl take seconds to import, which every
    # pytest process would otherwise pay while collecting.
    pytest.importorskip("torch", reason="torch is not installed: pip install torch==2.13.0")
    trl = pytest.importorskip("trl", reason="trl is not installed: pip install 'supportgym[trl]'")
    pytest.importorskip("gguf", reason="gguf is not installed: pip install 'supportgym[trl]'")
    from supportgym.integrations.trl import build_dataset, tool_env_class

    require_part("model")  # the small GGUF model: a missing one skips (fast tier) or fails, named
    model, tokenizer = _trainable_model(MODEL)
    args = trl.GRPOConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=2,
        num_generations=2,
        max_completion_length=48,
        max_steps=1,
        use_cpu=True,
        report_to=[],
        logging_steps=1,
        bf16=False,
        save_strategy="no",
        max_tool_calling_iterations=2,
        seed=0,
    )
    # A few tools only: all 36 schemas would not fit SmolLM2's 8k context.
    env_class = tool_env_class(["get_ticket", "get_order", "search_policies"], name="SmallSupportEnv")
    trainer = trl.GRPOTrainer(
        model=model,
        processing_class=tokenizer,
        args=args,
        train_dataset=build_dataset("test").select(range(2)),
        environment_factory=env_class,
    )
    trainer.train()
    assert trainer.state.global_step == 1
    logged = trainer.state.log_history[0]
    # The environment's get_reward is a reward source of its own, logged under the class name.
    rewards = [v for k, v in logged.items() if "SmallSupportEnv" in k and k.endswith("/mean")]
    assert rewards and all(0.0 <= r <= 1.5 for r in rewards), logged
