"""The sink registry builds every built-in sink, each satisfying the ``Sink`` protocol."""

from __future__ import annotations

import typing as t

import pytest

from sinks.alias_cache import AliasSink
from sinks.archive import ArchiveSink
from sinks.base import BUILTIN_SINKS, Sink, build_sink, sink_names
from sinks.config import SinkConfigError, SinksConfig
from sinks.feature_log import FeatureLogSink
from sinks.forecast_sink import ForecastSink
from sinks.notify_sink import NotifySink
from sinks.windows_sink import WindowsSink

if t.TYPE_CHECKING:
    from bus.paths import Paths


def test_every_builtin_sink_builds_and_fits_the_protocol(
    sink_paths: Paths, sinks_config: SinksConfig
) -> None:
    typed: list[Sink] = [  # mypy checks the protocol here, isinstance below at runtime
        ArchiveSink(sinks_config.archive),
        AliasSink(sinks_config.alias_dir),
        WindowsSink(sinks_config.window_log),
        FeatureLogSink(sinks_config.feature_log, sinks_config.archive.root),
        ForecastSink(sinks_config.window_log),
        NotifySink(sinks_config.notify, sink_paths.state_dir, sinks_config.alias_dir),
    ]
    assert [s.name for s in typed] == list(BUILTIN_SINKS)
    assert sink_names()[: len(BUILTIN_SINKS)] == list(BUILTIN_SINKS)
    for name in BUILTIN_SINKS:
        sink = build_sink(name, sink_paths, sinks_config)
        assert isinstance(sink, Sink) and sink.name == name
        sink.close()
    with pytest.raises(KeyError, match="unknown sink 'nope'"):
        build_sink("nope", sink_paths, sinks_config)


def test_config_file_sets_paths_and_refuses_bad_values(sink_paths: Paths) -> None:
    sink_paths.config_dir.mkdir(parents=True, exist_ok=True)
    sink_paths.config_file.write_text(
        '[sinks.archive]\nroot = "data/week0/live/automation"\nfsync = "always"\n'
        '[sinks.featurelog]\npath = "docs/Tasks/tracker_feature_log.md"\n'
    )
    config = SinksConfig.load(sink_paths)
    assert config.archive.root.parts[-4:] == ("data", "week0", "live", "automation")
    assert config.archive.fsync == "always" and config.archive.root.is_absolute()
    assert config.feature_log.name == "tracker_feature_log.md"
    assert config.alias_dir == sink_paths.alias_dir
    sink_paths.config_file.write_text('[sinks.archive]\nfsync = "sometimes"\n')
    with pytest.raises(SinkConfigError, match=r"sinks\.archive\.fsync"):
        SinksConfig.load(sink_paths)
