"""`--read-database-url` and BACKOFFICE_READ_DATABASE_URL (docs/rules.md
R160): checked like `--database-url`, the flag over the environment, shown
without its password, and no replica when it names the primary itself."""

from __future__ import annotations

import pytest

from console.cli.context import AppContext
from core.settings import Settings, from_environment, with_flags
from tests.cli_run import run_cli


def test_a_read_url_that_is_not_postgresql_is_a_usage_error() -> None:
    run = run_cli("--read-database-url", "mysql://reader@replica/backoffice", "report", "kpis")
    assert run.code == 2, run
    assert "--read-database-url" in run.err and "only PostgreSQL database URLs work" in run.err
    assert run.out == ""


def test_the_flag_wins_over_the_environment_and_the_password_is_never_shown() -> None:
    settings = from_environment({"BACKOFFICE_READ_DATABASE_URL": "postgresql://ops:secret@replica-a/backoffice"})
    assert settings.read_database_url == "postgresql://ops:secret@replica-a/backoffice"
    assert settings.redacted()["read_database_url"] == "postgresql://ops@replica-a/backoffice"
    flagged = with_flags(settings, read_database_url="postgresql://ops@replica-b/backoffice")
    assert flagged.read_database_url == "postgresql://ops@replica-b/backoffice"
    assert with_flags(settings, read_database_url=None).read_database_url == settings.read_database_url
    assert from_environment({}).read_database_url is None
    assert Settings().redacted()["read_database_url"] == "primary"


@pytest.mark.parametrize("same", [True, False], ids=["the-primary", "another-database"])
def test_a_command_reads_the_replica_only_when_it_is_another_database(database_url: str, same: bool) -> None:
    replica_url = database_url if same else database_url.replace("/t_", "/replica_t_", 1)
    context = AppContext(Settings(database_url=database_url, read_database_url=replica_url))
    try:
        engines = context.engines()
        assert context.engine() is engines.primary
        if same:
            assert engines.replica is None
            with context.reading() as conn:  # on the primary
                assert conn.exec_driver_sql("SHOW transaction_read_only").scalar_one() == "on"
        else:
            assert (
                engines.replica is not None
                and engines.replica.url.database == f"replica_{engines.primary.url.database}"
            )
            # No such database: the read goes to the primary (R162).
            with context.reading() as conn:
                assert conn.exec_driver_sql("SELECT current_database()").scalar_one() == engines.primary.url.database
            assert engines.replica_down
    finally:
        context.close()


def test_the_ssh_server_s_consoles_read_the_replica_it_was_told(monkeypatch: pytest.MonkeyPatch) -> None:
    from console.cli.ssh_cli import _console_environment

    monkeypatch.delenv("BACKOFFICE_READ_DATABASE_URL", raising=False)
    told = AppContext(Settings(read_database_url="postgresql://ops@replica/backoffice"))
    assert _console_environment(told)["BACKOFFICE_READ_DATABASE_URL"] == "postgresql://ops@replica/backoffice"
    assert "BACKOFFICE_READ_DATABASE_URL" not in _console_environment(AppContext(Settings()))
