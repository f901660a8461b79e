"""Sink fixtures: the sinks' config inside the test's PANEBUS_HOME, and running sink runners."""

from __future__ import annotations

import typing as t

import pytest

from bus.paths import Paths
from sinks.base import SinkRunner, build_sink
from sinks.config import ArchiveConfig, SinksConfig

if t.TYPE_CHECKING:
    from pathlib import Path

    from bus.broker import Broker
    from bus.endpoints import Endpoints


@pytest.fixture
def sink_paths(panebus_home: Path) -> Paths:
    """Paths resolved from the test's PANEBUS_HOME."""
    return Paths.from_env()


@pytest.fixture
def sinks_config(sink_paths: Paths, tmp_path: Path) -> SinksConfig:
    """Default locations, the feature log where the tracker layout keeps it, fsync always."""
    base = SinksConfig.defaults(sink_paths)
    return SinksConfig(
        archive=ArchiveConfig(root=tmp_path / "data/week0/live/automation", fsync="always"),
        alias_dir=base.alias_dir,
        window_log=base.window_log,
        feature_log=tmp_path / "docs/Tasks/tracker_feature_log.md",
        health_interval=0.5,
    )


class RunSink(t.Protocol):
    def __call__(self, name: str) -> SinkRunner: ...


@pytest.fixture
def run_sink(
    broker: Broker, endpoints: Endpoints, sink_paths: Paths, sinks_config: SinksConfig
) -> t.Iterator[RunSink]:
    """Start sinks by name on the test's broker; all are stopped after the test."""
    runners: list[SinkRunner] = []

    def start(name: str) -> SinkRunner:
        runner = SinkRunner(
            build_sink(name, sink_paths, sinks_config),
            endpoints,
            paths=sink_paths,
            health_interval=sinks_config.health_interval,
        )
        runners.append(runner.start())
        return runner

    yield start
    for runner in runners:
        runner.stop(timeout=5.0)
