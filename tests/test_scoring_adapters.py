"""The model adapters' loading code, run for real on tiny models built here from a config (no download).

Skipped without the extras: ``rm`` needs torch and transformers, ``comet`` needs unbabel-comet.
"""

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import UserError
from pipeline.scoring.scorers import make_scorer, score_pairs

torch = pytest.importorskip("torch", reason="the rm extra (torch) is not installed")
transformers = pytest.importorskip("transformers", reason="the rm extra (transformers) is not installed")

WORDS = "the a cat dog sat ran on mat question answer name colour blue red is what".split()
CHAT_TEMPLATE = "{{ cls_token }}{% for m in messages %}<{{ m['role'] }}> {{ m['content'] }}\n{% endfor %}{{ sep_token }}"
"""As real reward models' templates do, it writes the model's own special tokens (here BERT's [CLS] … [SEP])."""


def tiny_reward_model(directory, *, chat_template=None):
    """A 1-layer BERT sequence classifier with one output (a reward head) and a word-level tokenizer, saved to
    ``directory`` as a Hugging Face model directory; returns (tokenizer, model) as built."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    vocab = {token: i for i, token in enumerate(specials + WORDS + ["<user>", "<assistant>"])}
    core = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    core.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]",
                                                        special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]", pad_token="[PAD]",
                                                     cls_token="[CLS]", sep_token="[SEP]")
    if chat_template:
        tokenizer.chat_template = chat_template
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1,
                                     num_attention_heads=2, intermediate_size=32, max_position_embeddings=64,
                                     num_labels=1, initializer_range=1.0)  # rewards that differ visibly
    model = transformers.BertForSequenceClassification(config).eval()
    tokenizer.save_pretrained(directory)
    model.save_pretrained(directory)
    return tokenizer, model


def pairs_of(rows):
    return pd.DataFrame({"pair_id": [f"p{i}" for i in range(len(rows))], "prompt": [r[0] for r in rows],
                         "chosen": [r[1] for r in rows], "rejected": [r[2] for r in rows],
                         "references": [()] * len(rows), "language": "en", "subset": "s", "margin": np.nan})


ROWS = [("what is the name", "the cat", "a dog ran on the mat"), ("what colour", "blue", "red is a colour"),
        ("what is the name", "the dog", "the cat")]


def reward(tokenizer, model, text, *, special=True):
    with torch.no_grad():
        return float(model(**tokenizer(text, return_tensors="pt", add_special_tokens=special)).logits[0, 0])


@pytest.mark.parametrize("chat_template", [None, CHAT_TEMPLATE])
def test_reward_model_from_a_local_directory_scores_the_prompt_and_text(tmp_path, chat_template):
    tokenizer, model = tiny_reward_model(tmp_path, chat_template=chat_template)
    scorer = make_scorer(f"rm:{tmp_path}")
    assert scorer.name == f"rm:{tmp_path}" and scorer.signature() == f"reward model {tmp_path} (first logit)"
    assert scorer.model and not scorer.forkable  # hours on a CPU: never forked, the garbage collector kept on
    scored = score_pairs(pairs_of(ROWS), scorer, quiet=True)

    def as_chat(prompt, text):
        if chat_template is None:
            return f"{prompt}\n{text}"
        return f"[CLS]<user> {prompt}\n<assistant> {text}\n[SEP]"

    special = chat_template is None  # the template's own [CLS] … [SEP], not a second pair around them
    expected_chosen = [reward(tokenizer, model, as_chat(p, c), special=special) for p, c, _ in ROWS]
    expected_rejected = [reward(tokenizer, model, as_chat(p, r), special=special) for p, _, r in ROWS]
    if chat_template:
        doubled = [reward(tokenizer, model, as_chat(p, c)) for p, c, _ in ROWS]
        assert doubled != pytest.approx(expected_chosen, rel=1e-3)  # the test can tell doubled tokens apart
    # batched with padding in the scorer, one at a time here: the same rewards up to float rounding
    assert scored["chosen_score"].tolist() == pytest.approx(expected_chosen, rel=1e-4)
    assert scored["rejected_score"].tolist() == pytest.approx(expected_rejected, rel=1e-4)
    assert len(set(expected_chosen + expected_rejected)) > 1  # a model that gives one constant would prove nothing


def test_reward_model_directory_without_a_model_is_one_clear_line(tmp_path):
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(UserError, match="could not load reward model") as info:
        make_scorer(f"rm:{tmp_path}")
    assert "\n" not in str(info.value)


def tiny_comet_checkpoint(directory):
    """A reference-free COMET model (CometKiwi's kind: ``referenceless_regression_metric``) on a 2-layer XLM-R
    encoder built from a config, with a tokenizer trained here; saved in COMET's layout
    (``hparams.yaml`` beside ``checkpoints/model.ckpt``). Returns the checkpoint path."""
    import yaml
    from comet.models import ReferencelessRegression
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers

    encoder = directory / "encoder"
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    core = Tokenizer(models.Unigram())
    core.pre_tokenizer = pre_tokenizers.Metaspace()
    core.train_from_iterator([" ".join(WORDS)] * 3 + ["Der Zug ist spät.", "Das Haus ist blau."],
                             trainers.UnigramTrainer(vocab_size=80, special_tokens=specials, unk_token="<unk>"))
    core.post_processor = processors.TemplateProcessing(single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
                                                        special_tokens=[("<s>", 0), ("</s>", 2)])
    tokenizer = transformers.XLMRobertaTokenizerFast(tokenizer_object=core, bos_token="<s>", eos_token="</s>",
                                                     sep_token="</s>", cls_token="<s>", unk_token="<unk>",
                                                     pad_token="<pad>", mask_token="<mask>")
    tokenizer.save_pretrained(encoder)
    transformers.XLMRobertaConfig(vocab_size=core.get_vocab_size(), hidden_size=16, num_hidden_layers=2,
                                  num_attention_heads=2, intermediate_size=32, max_position_embeddings=130,
                                  pad_token_id=1, bos_token_id=0, eos_token_id=2).save_pretrained(encoder)
    torch.manual_seed(0)
    model = ReferencelessRegression(pretrained_model=str(encoder), hidden_sizes=[8], load_pretrained_weights=False)
    (directory / "checkpoints").mkdir()
    checkpoint = directory / "checkpoints" / "model.ckpt"
    torch.save({"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams),
                "pytorch-lightning_version": __import__("pytorch_lightning").__version__}, checkpoint)
    (directory / "hparams.yaml").write_text(
        yaml.safe_dump({"class_identifier": "referenceless_regression_metric", **dict(model.hparams)}),
        encoding="utf-8")
    return checkpoint, model


def test_comet_checkpoint_from_a_local_path_loads_and_scores_source_and_translation(tmp_path):
    pytest.importorskip("comet", reason="the comet extra (unbabel-comet) is not installed")
    checkpoint, model = tiny_comet_checkpoint(tmp_path)
    scorer = make_scorer(f"comet:{checkpoint}")
    assert scorer.signature() == f"COMET {checkpoint}"
    rows = [("Der Zug ist spät.", "the train is late", "a dog ran"), ("Das Haus ist blau.", "the house is blue",
                                                                        "what is red")]
    scored = score_pairs(pairs_of(rows), scorer, quiet=True)
    direct = model.eval().predict([{"src": s, "mt": t} for s, c, r in rows for t in (c, r)], batch_size=4, gpus=0,
                                  progress_bar=False).scores
    assert [v for pair in zip(scored["chosen_score"], scored["rejected_score"]) for v in pair] == pytest.approx(
        direct, abs=1e-5)


def test_comet_path_that_is_not_a_checkpoint_is_one_clear_line(tmp_path):
    pytest.importorskip("comet", reason="the comet extra (unbabel-comet) is not installed")
    bogus = tmp_path / "model.ckpt"
    bogus.write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="could not load COMET model") as info:
        make_scorer(f"comet:{bogus}")
    assert "\n" not in str(info.value)
