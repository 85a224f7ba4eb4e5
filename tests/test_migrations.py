"""The schema comes from the migrations alone, and they agree with the models on both databases."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, select, text

from fireline import migrate
from fireline.db import make_engine, make_session_factory
from fireline.models import Severity


def test_a_fresh_database_migrates_to_head_with_nothing_left_for_autogenerate(fresh_database):
    database = fresh_database()
    # Raises when the models hold anything the migrations do not create.
    command.check(migrate.alembic_config(database.url))
    engine = make_engine(database.url, pool_size=1)
    try:
        assert migrate.is_current(engine)
    finally:
        engine.dispose()


def test_the_seeded_severity_policy_matches_the_design(db):
    levels = {s.key: s for s in db.scalars(select(Severity).order_by(Severity.level))}
    assert list(levels) == ["SEV1", "SEV2", "SEV3", "SEV4"]
    assert (levels["SEV1"].first_update_minutes, levels["SEV1"].update_cadence_minutes) == (15, 30)
    assert (levels["SEV2"].first_update_minutes, levels["SEV2"].update_cadence_minutes) == (30, 60)
    assert levels["SEV1"].exec_notice
    assert not levels["SEV2"].exec_notice
    assert levels["SEV1"].postmortem_meeting_business_days == 5
    assert [levels[k].is_major for k in levels] == [True, True, False, False]
    assert [levels[k].postmortem for k in levels] == ["required", "required", "optional", "none"]


def test_migrations_go_down_to_empty_and_back_up(fresh_database):
    database = fresh_database()
    config = migrate.alembic_config(database.url)
    command.downgrade(config, "base")
    engine = make_engine(database.url, pool_size=1)
    try:
        assert "incidents" not in inspect(engine).get_table_names()
        command.upgrade(config, "head")
        assert "incidents" in inspect(engine).get_table_names()
        with make_session_factory(engine)() as session:
            assert session.scalar(text("SELECT count(*) FROM severities")) == 4
    finally:
        engine.dispose()
