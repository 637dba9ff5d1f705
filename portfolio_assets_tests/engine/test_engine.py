"""The engine resource: settings, redaction, an unreachable cluster, and per-asset work on Spark."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from portfolio_assets import settings
from portfolio_assets.engine import (
    EngineError,
    EngineResource,
    check_reachable,
    endpoints_of,
    parse_conf,
    redact_url,
    split_by,
)


def test_redact_url_hides_user_info_and_connect_tokens():
    assert redact_url("sc://dgx:15002/;token=s3cret;user_id=ana") == "sc://dgx:15002/;token=***;user_id=ana"
    assert redact_url("spark://me:pw@dgx-cluster:7077") == "spark://***@dgx-cluster:7077"
    assert redact_url("local[2]") == "local[2]"


def test_endpoints_of_each_kind_of_url():
    assert endpoints_of("spark://dgx-cluster:7077") == [("dgx-cluster", 7077)]
    assert endpoints_of("spark://h1:7078,h2:7079") == [("h1", 7078), ("h2", 7079)]
    assert endpoints_of("spark://dgx") == [("dgx", 7077)]
    assert endpoints_of("sc://dgx/;token=x") == [("dgx", 15002)]
    assert endpoints_of("local[*]") == [] and endpoints_of("yarn") == []


def test_a_standby_master_that_answers_is_enough():
    import socket

    with socket.socket() as dead, socket.socket() as alive:
        dead.bind(("127.0.0.1", 0))  # bound, not listening: refused
        alive.bind(("127.0.0.1", 0))
        alive.listen()
        check_reachable(
            f"spark://127.0.0.1:{dead.getsockname()[1]},127.0.0.1:{alive.getsockname()[1]}", setting="SPARK_MASTER_URL"
        )
        with pytest.raises(EngineError, match=r"does not answer at 127.0.0.1:\d+ \(.*\), 127.0.0.1:\d+"):
            check_reachable(
                f"spark://127.0.0.1:{dead.getsockname()[1]},127.0.0.1:{dead.getsockname()[1]}",
                setting="SPARK_MASTER_URL",
            )


def test_parse_conf_takes_spark_pairs_and_names_a_bad_one():
    assert parse_conf("spark.sql.shuffle.partitions=64, spark.task.cpus=2\n") == {
        "spark.sql.shuffle.partitions": "64",
        "spark.task.cpus": "2",
    }
    # a comma not followed by spark. is the value's: package lists, Java options
    assert parse_conf("spark.jars.packages=a:b:1,c:d:2,spark.task.cpus=1\nspark.x.opts=-Da=1,2") == {
        "spark.jars.packages": "a:b:1,c:d:2",
        "spark.task.cpus": "1",
        "spark.x.opts": "-Da=1,2",
    }
    with pytest.raises(ValueError, match="holds 'memory', not a Spark setting"):
        parse_conf("memory=8g")


def test_a_bad_conf_setting_never_shows_its_value():
    with pytest.raises(settings.SettingError, match="PORTFOLIO_SPARK_CONF=\\(value hidden\\)") as err:
        settings.env_setting(
            settings.SPARK_CONF_ENV,
            "",
            environ={settings.SPARK_CONF_ENV: "spark.hadoop.fs.s3a.secret.key=AKIA9\nAKIA9"},
        )
    assert "AKIA9" not in str(err.value)


@pytest.mark.parametrize(
    ("env", "value", "message"),
    [
        (settings.SPARK_MASTER_URL_ENV, "http://dgx:7077", "is not a Spark master URL"),
        (settings.SPARK_MASTER_URL_ENV, "local[0]", "is not a Spark master URL"),
        (settings.SPARK_REMOTE_ENV, "sc://dgx:15002/;token=hunter2 x", "is not a Spark Connect URL"),
        (settings.SPARK_EXECUTOR_MEMORY_ENV, "8 GB", "is not a memory size"),
        (settings.SPARK_EXECUTOR_CORES_ENV, "0", "between 1 and 1024"),
        (settings.SPARK_CONF_ENV, "spark.task.cpus", "holds pair 1, not a Spark setting"),
        (settings.SPARK_SHIP_CODE_ENV, "maybe", "must be true or false"),
        (settings.SPARK_DIRECT_IO_ENV, "sometimes", "must be one of auto, on, off"),
    ],
)
def test_a_bad_engine_setting_fails_when_definitions_load(env, value, message):
    with pytest.raises(settings.SettingError, match=message) as err:
        settings.env_setting(env, "", environ={env: value})
    assert env in str(err.value)
    assert "hunter2" not in str(err.value)


def test_engine_settings_reach_the_resource(monkeypatch):
    from portfolio_assets.definitions import engine_resource

    for env, value in {
        settings.SPARK_MASTER_URL_ENV: "spark://dgx-cluster:7077",
        settings.SPARK_EXECUTOR_MEMORY_ENV: "48g",
        settings.SPARK_EXECUTOR_CORES_ENV: "8",
        settings.SPARK_APP_NAME_ENV: "training-set",
        settings.SPARK_CONF_ENV: "spark.task.cpus=2",
        settings.SPARK_SHIP_CODE_ENV: "true",
        settings.SPARK_DRIVER_MEMORY_ENV: "12g",
        settings.SPARK_DIRECT_IO_ENV: "on",
    }.items():
        monkeypatch.setenv(env, value)
    with engine_resource().process_config_and_initialize_cm() as engine:  # EnvVars resolved as at run launch
        _check_conf(engine)


def _check_conf(engine: EngineResource) -> None:
    assert engine.uses_spark
    assert engine.describe() == "spark spark://dgx-cluster:7077"
    conf = engine.conf()
    assert conf["spark.executor.memory"] == "48g"
    assert conf["spark.executor.cores"] == "8"
    assert conf["spark.app.name"] == "training-set"
    assert conf["spark.task.cpus"] == "2"
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert engine.ship_code is True
    assert conf["spark.driver.memory"] == "12g"
    assert engine.direct_io == "on" and engine.reads_store(object())  # a shared mount, the operator says


def test_no_url_means_in_process_and_the_function_runs_on_the_whole_frames():
    engine = EngineResource()
    seen = []

    def whole(prices, *, scale):
        seen.append(len(prices))
        return prices.assign(x=prices["v"] * scale)

    frame = pd.DataFrame({"asset_symbol": ["A", "B", "A"], "v": [1.0, 2.0, 3.0]})
    out = engine.by_asset(whole, {"prices": frame}, shared={"scale": 2.0})
    assert seen == [3]
    assert out["x"].tolist() == [2.0, 4.0, 6.0]
    assert engine.describe() == "in-process"


def test_both_urls_set_is_refused():
    from dagster import build_init_resource_context

    engine = EngineResource(master_url="local[2]", remote="sc://127.0.0.1:1")
    with pytest.raises(settings.SettingError, match="not both"):
        engine.setup_for_execution(build_init_resource_context())


def test_an_unreachable_cluster_fails_at_once_naming_the_url_without_credentials():
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    engine = EngineResource(remote=f"sc://127.0.0.1:{port}/;token=hunter2")
    started = time.monotonic()
    with pytest.raises(EngineError) as err:
        engine.session()
    assert time.monotonic() - started < 5
    text = str(err.value)
    assert f"SPARK_REMOTE=sc://127.0.0.1:{port}/;token=***" in text
    assert "hunter2" not in text
    assert "Spark Connect server" in text
    with pytest.raises(EngineError, match=rf"SPARK_MASTER_URL=spark://127.0.0.1:{port} does not answer"):
        check_reachable(f"spark://127.0.0.1:{port}", setting="SPARK_MASTER_URL")


def test_a_row_of_no_asset_is_refused_not_dropped():
    frame = pd.DataFrame({"asset_symbol": ["A", None, "B"], "v": [1, 2, 3]})
    with pytest.raises(ValueError, match="1 row\\(s\\) have no 'asset_symbol'"):
        split_by(frame, "asset_symbol")


def test_split_by_keeps_each_assets_rows_in_order():
    frame = pd.DataFrame({"asset_symbol": ["B", "A", "B"], "v": [1, 2, 3]}, index=[7, 8, 9])
    parts = split_by(frame, "asset_symbol")
    assert list(parts) == ["B", "A"]
    pdt.assert_frame_equal(parts["B"], pd.DataFrame({"asset_symbol": ["B", "B"], "v": [1, 3]}))


def per_asset_moments(prices: pd.DataFrame, other: pd.DataFrame, *, offset: float) -> pd.DataFrame:
    """A per-asset function of two frames and a shared value, with the dtypes that must survive Spark."""
    out = prices.sort_values(["asset_symbol", "timestamp"]).copy()
    out["cum"] = out.groupby("asset_symbol")["v"].cumsum() + offset
    out["others"] = out["asset_symbol"].map(other.groupby("asset_symbol").size()).astype("Int64")
    return out.reset_index(drop=True)


def test_spark_runs_the_function_per_asset_with_every_dtype_intact(spark):
    rng = np.random.default_rng(7)
    days = pd.date_range("2020-01-01 21:00", periods=40, freq="D", tz="UTC") + pd.Timedelta(nanoseconds=1)
    prices = pd.DataFrame(
        {
            "asset_symbol": np.repeat(["BTC", "SPY", "EURUSD"], len(days)),
            "timestamp": np.tile(days, 3),
            "v": rng.standard_normal(3 * len(days)),
            "label": pd.Categorical(np.repeat(["crypto", "equity", "fx"], len(days))),
            "text": [None if i % 7 == 0 else f"é{i}" for i in range(3 * len(days))],
        }
    )
    prices.loc[5, "v"] = np.nan
    prices.loc[6, "v"] = -0.0
    other = prices[prices["asset_symbol"] != "SPY"][["asset_symbol"]]  # SPY's piece is empty
    whole = per_asset_moments(prices, other, offset=0.5)
    engine = EngineResource(master_url="local[2]")
    partitions = spark.conf.get("spark.sql.shuffle.partitions")
    jobs = len(spark.sparkContext.statusTracker().getJobIdsForGroup())
    out = engine.by_asset(per_asset_moments, {"prices": prices, "other": other}, shared={"offset": 0.5})
    assert len(spark.sparkContext.statusTracker().getJobIdsForGroup()) > jobs  # it ran on Spark
    assert spark.conf.get("spark.sql.shuffle.partitions") == partitions  # the borrowed session's own, put back
    pdt.assert_frame_equal(out, whole, check_exact=True)
    assert np.signbit(out.loc[out["v"] == 0, "v"]).tolist() == np.signbit(whole.loc[whole["v"] == 0, "v"]).tolist()
    engine.stop()
    assert not spark.sparkContext._jsc.sc().isStopped()  # the shared session is left running


def test_another_active_session_is_not_silently_reused(spark):
    engine = EngineResource(master_url="local[1]")
    with pytest.raises(EngineError, match=r"another Spark session \(master local\[2\]\) is active"):
        engine.session()


def test_ship_code_sends_this_package_to_the_executors(tmp_path):
    """A fresh ``local[1]`` context in a process of its own, with ``ship_code``: the zip holds the package (not its
    sample data) and is on the executors' Python path, where the package can be imported from it (here the
    installed copy comes first; an executor without it takes the zip's)."""
    import subprocess
    import sys
    import textwrap
    import zipfile

    script = textwrap.dedent(
        f"""
        import sys, zipfile
        from portfolio_assets.engine import EngineResource
        engine = EngineResource(master_url="local[1]", ship_code=True)
        spark = engine.session()
        def where(_):
            import sys, zipimport
            zips = [p for p in sys.path if p.endswith("portfolio_assets.zip")]
            yield "|".join(zips) if zips and zipimport.zipimporter(zips[0]).find_spec("portfolio_assets") else "none"
        found = spark.sparkContext.parallelize([0], 1).mapPartitions(where).collect()[0]
        names = zipfile.ZipFile(engine._staging + "/portfolio_assets.zip").namelist()
        import shutil; shutil.copy(engine._staging + "/portfolio_assets.zip", {str(tmp_path)!r})
        staging = engine._staging
        engine.stop()
        import os
        print(found, "engine.py" in str(names), any("sample_data" in n for n in names), os.path.exists(staging))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    found, has_engine, has_sample, staging_left = done.stdout.split()[-4:]
    assert "portfolio_assets.zip" in found  # on the executor's path, and the package is found in it
    assert (has_engine, has_sample, staging_left) == ("True", "False", "False")
    names = zipfile.ZipFile(tmp_path / "portfolio_assets.zip").namelist()
    assert "portfolio_assets/engine.py" in names and "portfolio_assets/features/registry.py" in names


def test_a_session_that_dies_under_a_job_is_named_with_what_to_do():
    """The driver JVM stopping during a job (as when it runs out of memory) is an EngineError saying so, not a
    py4j trace; in a process of its own (a stopped context cannot be restarted beside the shared session)."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import pandas as pd
        from portfolio_assets.engine import EngineError, EngineResource
        engine = EngineResource(master_url="local[1]", driver_memory="1g")
        engine.session().sparkContext.stop()  # what the JVM's death does to the context
        frame = pd.DataFrame({"asset_symbol": ["A", "B"], "v": [1.0, 2.0]})
        try:
            engine.by_asset(lambda prices: prices, {"prices": frame}, order=())
        except EngineError as exc:
            print("ERROR", exc)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    message = done.stdout.split("ERROR", 1)[1]
    assert "the session (spark local[1]) stopped while running <lambda> per asset" in message
    assert "PORTFOLIO_SPARK_DRIVER_MEMORY (now 1g)" in message


def refuse_btc(prices: pd.DataFrame) -> pd.DataFrame:
    """A per-asset function that refuses one asset's rows, as a feature function refuses bad prices."""
    if (prices["asset_symbol"] == "BTC").any():
        raise ValueError("prices: BTC has a close of 0 on 2020-01-03")
    return prices


def test_an_error_raised_on_an_executor_is_the_in_process_error(spark):
    """The driver raises what the function raised (its class and message), not Spark's PythonException."""
    frame = pd.DataFrame({"asset_symbol": ["SPY", "BTC", "SPY"], "v": [1.0, 0.0, 2.0]})
    errors = []
    for engine in (EngineResource(), EngineResource(master_url="local[2]")):
        with pytest.raises(ValueError) as err:
            engine.by_asset(refuse_btc, {"prices": frame})
        errors.append((type(err.value), str(err.value)))
    assert errors[0] == errors[1] == (ValueError, "prices: BTC has a close of 0 on 2020-01-03")
    with pytest.raises(ValueError, match="BTC has a close of 0"):
        EngineResource(master_url="local[2]").map_calls(refuse_btc, [(frame,)])
