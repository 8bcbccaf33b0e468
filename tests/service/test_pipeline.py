"""Races the per-ticket lock cannot see (two processes, no Redis) end in the winner's decision."""

from __future__ import annotations

import pytest

from service import pipeline
from tests.service.conftest import headers
from tests.service.test_api import rows, ticket


def check_loser_at_the_promo_cap_returns_the_winners_decision(make_client, monkeypatch, url):
    # Two apps on one database, each with its own in-process lock: as two replicas without Redis.
    winner = make_client(url, promo_cap=1)
    loser = make_client(url, promo_cap=1)
    real_assess, won = pipeline.assess_ticket, []

    def assess_while_the_winner_commits(*args):
        # The loser has read "no decision yet"; the winner now replies and takes the last code,
        # so the loser's promo fails on the cap and its hand-off collides with the winner's row.
        monkeypatch.setattr(pipeline, "assess_ticket", real_assess)
        won.append(winner.post("/v1/autoreply", json=ticket(), headers=headers()))
        return real_assess(*args)

    monkeypatch.setattr(pipeline, "assess_ticket", assess_while_the_winner_commits)
    lost = loser.post("/v1/autoreply", json=ticket(), headers=headers())
    assert won[0].status_code == 200 and won[0].json()["action"] == "reply"
    assert lost.status_code == 200, lost.text
    assert lost.json() == won[0].json()
    assert rows(winner)["decisions"] == 1 and rows(winner)["promo_codes"] == 1


def test_race_loser_at_the_promo_cap_returns_the_winners_decision(make_client, monkeypatch):
    check_loser_at_the_promo_cap_returns_the_winners_decision(make_client, monkeypatch, None)


@pytest.mark.postgres
def test_race_loser_at_the_promo_cap_on_postgres(make_client, monkeypatch, postgres_url):
    check_loser_at_the_promo_cap_returns_the_winners_decision(
        make_client, monkeypatch, postgres_url
    )
