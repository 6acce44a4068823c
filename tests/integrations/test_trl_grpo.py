"""One real GRPO step on CPU with SupportGymToolEnv as TRL's environment_factory.

The model is the small GGUF the LLM-server scripts fetch (scripts/fetch-smollm: SmolLM2-135M,
no model hub needed), loaded through transformers' GGUF reader. SmolLM2 speaks ChatML but its own
template has no tools, so it is given TRL's Qwen2.5 template (also ChatML, with <tool_call>).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="torch is not installed: pip install torch==2.13.0")
trl = pytest.importorskip("trl", reason="trl is not installed: pip install 'supportgym[trl]'")
pytest.importorskip("gguf", reason="gguf is not installed: pip install 'supportgym[trl]'")

from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402
from trl.chat_template_utils import qwen2_5_chat_template  # noqa: E402

from supportgym.integrations.trl import SupportGymToolEnv, build_dataset  # noqa: E402

pytestmark = pytest.mark.slow

MODEL = Path(os.environ.get("SUPPORTGYM_CACHE", Path.home() / ".cache" / "supportgym")) / "models" / (
    "SmolLM2-135M-Instruct.Q4_1.gguf"
)


def _trainable_model(path: Path) -> tuple[object, object]:
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
    if not MODEL.exists():
        pytest.skip(f"the small model is missing ({MODEL}): run scripts/fetch-smollm")
    model, tokenizer = _trainable_model(MODEL)
    args = trl.GRPOConfig(
        output_dir=str(tmp_path), per_device_train_batch_size=2, num_generations=2, max_completion_length=48,
        max_steps=1, use_cpu=True, report_to=[], logging_steps=1, bf16=False, save_strategy="no",
        max_tool_calling_iterations=2, seed=0,
    )
    trainer = trl.GRPOTrainer(model=model, processing_class=tokenizer, train_dataset=build_dataset("test").select(range(2)),
                              environment_factory=SupportGymToolEnv, args=args)
    before = [p.detach().clone() for p in model.parameters()]
    trainer.train()
    assert trainer.state.global_step == 1
    logged = trainer.state.log_history[0]
    # The environment's get_reward is a reward source of its own, logged under the class name.
    assert any("SupportGymToolEnv" in key for key in logged), logged
    assert any(not torch.equal(a, b.detach()) for a, b in zip(before, model.parameters(), strict=True)), \
        "one optimiser step changes the weights"
