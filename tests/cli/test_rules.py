"""`autoreply rules ...` through Typer, and once through the installed entry point."""

import json
import shutil
import subprocess

from typer.testing import CliRunner

from cli import app
from tests.examples import PROMO, WORKED

runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args))


def test_check_prints_the_version():
    result = run("rules", "check")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["version"].startswith("rb-")


def test_check_lists_every_problem_with_file_and_line(book_copy):
    root = book_copy(("rules/drivers.yaml", "driver_rating < 4.5", "driver_ratng < 4.5"))
    result = run("rules", "check", "--rulebook", str(root))
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert problems[0]["file"].endswith("rules/drivers.yaml") and problems[0]["line"] == 10
    assert "did you mean 'driver_rating'" in result.stderr


def test_eval_prints_match_and_trace_for_the_worked_example_and_its_neighbours():
    cases = [
        (WORKED, "riders.promo_reissue"),
        ({**WORKED, "coupon_used": False, "coupon_use_value": 0}, "riders.promo_how_coupons_apply"),
        ({**WORKED, "final_transaction_status": "hold_fail"}, "riders.promo_hold_refund"),
        ({**WORKED, "complete_rides": 1}, "riders.promo_escalate"),
    ]
    for facts, template in cases:
        result = run("rules", "eval", "--topic", PROMO, "--facts", json.dumps(facts))
        assert result.exit_code == 0, result.output
        out = json.loads(result.stdout)
        assert out["template"] == template
        assert out["trace"] and all("conditions" in t for t in out["trace"])


def test_eval_refuses_bad_input_with_what_to_fix():
    bad_json = run("rules", "eval", "--topic", PROMO, "--facts", "{nope")
    assert bad_json.exit_code == 2 and "not valid JSON" in bad_json.stderr
    bad_fact = run("rules", "eval", "--topic", PROMO, "--facts", '{"coupon_usd": true}')
    assert bad_fact.exit_code == 2 and "did you mean 'coupon_used'" in bad_fact.stderr
    bad_topic = run("rules", "eval", "--topic", "riders/nope", "--facts", "{}")
    assert bad_topic.exit_code == 2 and "unknown topic" in bad_topic.stderr


def test_rules_test_passes_on_the_shipped_book_and_fails_on_a_wrong_expectation(book_copy):
    assert run("rules", "test").exit_code == 0
    root = book_copy(
        (
            "rules/drivers.test.yaml",
            "expect: {rule: blocked_low_rating",
            "expect: {rule: blocked_review",
        )
    )
    result = run("rules", "test", "--rulebook", str(root))
    assert result.exit_code == 1
    assert json.loads(result.stdout)["failures"][0]["name"] == "a low rating limits the account"


def test_backtest_with_against(tmp_path, book_copy):
    other = book_copy(
        ("rules/riders_ride_cost.yaml", "- coupon_use_value = 100", "- coupon_use_value = 200")
    )
    past = tmp_path / "past.jsonl"
    past.write_text(
        json.dumps({"id": "a", "topic": PROMO, "facts": WORKED, "template": "riders.promo_reissue"})
        + "\n"
    )
    result = run("rules", "backtest", str(past), "--against", str(other))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["rules"][0]["agreed"] == 1 and out["against"]["changed"] == 1


def test_installed_entry_point_has_help_on_every_command():
    exe = shutil.which("autoreply")
    assert exe, "the autoreply console script is installed by scripts/setup.sh"
    for args in (
        [],
        ["rules"],
        ["rules", "check"],
        ["rules", "eval"],
        ["rules", "test"],
        ["rules", "backtest"],
    ):
        done = subprocess.run([exe, *args, "--help"], capture_output=True, text=True, check=False)
        assert done.returncode == 0 and "Usage" in done.stdout, (args, done.stderr)
