"""The agents' choices in the corpus agree with the rulebook at the rate the noise implies."""

from rules.backtest import backtest
from rules.loader import load_rulebook
from training.corpus.generate import CorpusConfig


def test_backtest_agreement_matches_the_generators_noise(corpus_dir):
    config = CorpusConfig()
    expected = config.agent.keeps_rule_template * (1 - config.label_noise)
    report = backtest(load_rulebook(), corpus_dir / "train.jsonl").as_dict()
    assert report["skipped"] == []
    assert abs(report["agreement"] - expected) < 0.03, (report["agreement"], expected)
