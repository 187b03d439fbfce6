"""Hub models in the attention tab, tested offline on tiny models built from configs in a folder.

The weights are random: these tests check the code path (hooks, shapes, masks, our attention
maths against the model's), never what a trained model attends to.
"""

from __future__ import annotations

import pytest
import torch

from core import assets, attention_hub
from core import attention_models as am
from core.tokenizers import get_tokenizer
from tests.unit.test_attention import assert_inside_head_matches

TEXT = "Hello world, the cat sat on the mat."


@pytest.fixture(scope="module")
def gpt2_folder(tmp_path_factory):
    from transformers import GPT2Config, GPT2LMHeadModel

    folder = tmp_path_factory.mktemp("tiny-gpt2")
    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config(n_layer=2, n_head=4, n_embd=32, n_positions=64)).save_pretrained(folder)
    get_tokenizer("gpt2")[0].tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def bert_folder(tmp_path_factory):
    from transformers import BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny-bert")
    torch.manual_seed(0)
    config = BertConfig(num_hidden_layers=2, num_attention_heads=4, hidden_size=32, intermediate_size=64)
    BertModel(config).save_pretrained(folder)
    get_tokenizer("bert")[0].tokenizer.save_pretrained(folder)
    return str(folder)


def test_gpt2_style_model_from_a_folder(gpt2_folder):
    run = am.run(am.HUB_PREFIX + gpt2_folder, TEXT)
    gpt2, _ = get_tokenizer("gpt2")
    assert [t.id for t in run.tokens] == [t.id for t in gpt2.encode(TEXT)]
    assert run.causal and run.attentions.shape[:2] == (2, 4) and run.logits.shape[-1] == 50257
    T = len(run.labels)
    assert (run.attentions[..., torch.triu(torch.ones(T, T, dtype=torch.bool), 1)] == 0).all()
    assert_inside_head_matches(run)
    assert am.induction_for(am.HUB_PREFIX + gpt2_folder).shape == (2, 4)
    table = am.next_token_table(run, torch.softmax(run.logits[-1], -1), top=3)
    assert len(table) == 3 and all(isinstance(t, str) for t, _, _ in table)


def test_bert_style_model_from_a_folder(bert_folder):
    run = am.run(am.HUB_PREFIX + bert_folder, TEXT)
    assert run.labels[0] == "[CLS]" and run.labels[-1] == "[SEP]" and not run.causal
    assert_inside_head_matches(run)


def test_unsupported_architecture_is_refused(tmp_path):
    from transformers import DistilBertConfig, DistilBertModel

    DistilBertModel(DistilBertConfig(n_layers=1, n_heads=2, dim=16, hidden_dim=32)).save_pretrained(tmp_path)
    with pytest.raises(assets.AssetError, match="opens BERT-style and GPT-2-style models"):
        attention_hub.load(str(tmp_path))


def test_hub_ids_offline_and_malformed_ids():
    with pytest.raises(assets.HubUnavailable, match="not reachable"):
        attention_hub.load("openai-community/gpt2")
    with pytest.raises(assets.AssetError, match="not a Hub id"):
        attention_hub.load("two words")
