import pytest
from pydantic import ValidationError

from service.settings import DEV_API_KEY, Settings, hash_key


def test_defaults_are_the_embedded_setup():
    settings = Settings(_env_file=None)
    assert settings.database_url.startswith("sqlite") and settings.redis_url is None
    assert settings.api_keys == {
        hash_key(DEV_API_KEY): ["suggest", "autoreply", "feedback", "admin", "console"]
    }


def test_production_refuses_unsafe_defaults():
    with pytest.raises(ValidationError, match=r"development API key.*SQLite"):
        Settings(environment="production")


def test_production_with_real_settings_starts():
    settings = Settings(
        environment="production",
        database_url="postgresql+psycopg://db/autoreply",
        api_keys={hash_key("s3cret"): ["autoreply"]},
    )
    assert settings.public()["database_url"] == "postgresql+psycopg://db/autoreply"


def test_unknown_scopes_are_refused():
    with pytest.raises(ValidationError, match="scopes"):
        Settings(api_keys={hash_key("k"): ["everything"]})


def test_env_variables_configure_it(monkeypatch):
    monkeypatch.setenv("AUTOREPLY_LINE_MODES", '{"riders": "shadow"}')
    monkeypatch.setenv("AUTOREPLY_PROMO_CAP", "5")
    settings = Settings()
    assert settings.line_modes == {"riders": "shadow"} and settings.promo_cap == 5


def test_production_needs_a_console_secret_for_console_keys():
    real = {"environment": "production", "database_url": "postgresql+psycopg://db/autoreply"}
    with pytest.raises(ValidationError, match="CONSOLE_SECRET"):
        Settings(**real, api_keys={hash_key("s3cret"): ["console"]})
    settings = Settings(**real, api_keys={hash_key("s3cret"): ["console"]}, console_secret="x" * 32)
    assert "console_secret" not in settings.public()


def test_a_short_console_secret_is_refused_and_an_empty_one_is_unset():
    with pytest.raises(ValidationError, match="32 characters"):
        Settings(console_secret="short")
    assert Settings(console_secret="").console_secret is None
