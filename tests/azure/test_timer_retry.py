"""A timer declared with retries gets Azure's function-level retry policy; without, none."""

import polyfn_azure

import polyfn


def _functions(retries):
    app = polyfn.App("timers")

    @app.schedule("0 2 * * *", retries=retries)
    def nightly(event, ctx):
        return None

    return polyfn_azure.function_app(app).get_functions()


def test_retries_become_the_function_retry_policy():
    (fn,) = _functions(3)
    policy = fn.get_settings_dict("retry_policy")
    assert policy == {
        "setting_name": "retry_policy",
        "strategy": "fixed_delay",
        "max_retry_count": "3",
        "delay_interval": "00:01:00",
    }
    assert [b["type"] for b in fn.get_dict_repr()["bindings"]] == ["timerTrigger"]


def test_no_retries_no_policy():
    for retries in (None, 0):
        (fn,) = _functions(retries)
        assert fn.get_settings_dict("retry_policy") is None
