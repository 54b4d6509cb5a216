"""The app object itself: commands are registered once however often ``main`` runs."""

from __future__ import annotations

from edgeprof.cli import _app as cli_app


def test_repeated_main_calls_do_not_grow_the_app(run_cli):
    run_cli("--version")
    count = len(cli_app.app.registered_commands)
    groups = len(cli_app.app.registered_groups)
    assert count > 5
    for _ in range(3):
        code, out, _ = run_cli("--version")
        assert code == 0 and out.strip()
    assert len(cli_app.app.registered_commands) == count
    assert len(cli_app.app.registered_groups) == groups
