import pytest
from pydantic import ValidationError

from service.settings import DEV_API_KEY, Settings, hash_key


def test_defaults_are_the_embedded_setup():
    settings = Settings(_env_file=None)
    assert settings.database_url.startswith("sqlite") and settings.redis_url is None
    assert settings.api_keys == {
        hash_key(DEV_API_KEY): ["suggest", "autoreply", "feedback", "admin"]
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
