from aiaas_lib import env
from aiaas_lib.env import GPU, EnvReport


def _report(**changes) -> EnvReport:
    base = dict(
        python="3.11.7",
        versions={"tensorflow": "2.21.0", "keras": "3.15.1", "shap": "0.51.0", "lime": "0.2.0.1"},
        gpus=[], cpu_count=2, colab=False, mode="fast", offline=True,
    )
    base.update(changes)
    return EnvReport(**base)


def test_check_on_this_cpu_machine(capsys):
    report = env.check()
    out = capsys.readouterr().out
    assert report.device == "CPU" and report.gpus == []
    assert "device: CPU only" in out and "come from a CPU" in out
    for name in ("tensorflow", "keras", "shap", "lime"):
        assert f"{name} {report.versions[name]}" in out
    assert report.versions["keras"].startswith("3.")
    assert f"mode {report.mode}" in out
    assert report.problems == [], report.problems


def test_check_quiet_prints_nothing(capsys):
    env.check(verbose=False)
    assert capsys.readouterr().out == ""


def test_healthy_report_has_no_hints():
    assert env.hints(_report()) == []


def test_colab_on_cpu_runtime_hints_gpu_switch():
    (hint,) = env.hints(_report(colab=True))
    assert "Change runtime type" in hint and "GPU" in hint


def test_colab_with_gpu_has_no_hint():
    assert env.hints(_report(colab=True, gpus=[GPU("Tesla T4", (7, 5))])) == []


def test_keras_2_hints_keras_3():
    (hint,) = env.hints(_report(versions={"tensorflow": "2.15.0", "keras": "2.15.0", "shap": "1", "lime": "1"}))
    assert "Keras 2.15.0 is Keras 2" in hint and "keras>=3" in hint


def test_missing_packages_each_get_a_hint():
    hints = env.hints(_report(versions={"tensorflow": None, "keras": None, "shap": None, "lime": None}))
    assert len(hints) == 4
    assert any("TensorFlow is not installed" in h for h in hints)
    assert any(h.startswith("shap is not installed") for h in hints)


def test_old_python_hint():
    assert any("3.10.4 is too old" in h for h in env.hints(_report(python="3.10.4")))


def test_driver_without_tf_gpu_hints_cuda_wheel():
    (hint,) = env.hints(_report(nvidia_driver=True))
    assert "tensorflow[and-cuda]" in hint


def test_gpu_summary_names_device_and_mixed_precision_support():
    t4, k80 = GPU("Tesla T4", (7, 5)), GPU("Tesla K80", (3, 7))
    assert t4.supports_mixed_precision and not k80.supports_mixed_precision
    report = _report(gpus=[t4])
    assert report.device == "GPU"
    assert "GPU: Tesla T4 (compute 7.5)" in report.summary()


def test_summary_lists_problems_as_fix_lines():
    report = _report(colab=True)
    report.problems = env.hints(report)
    assert "\nfix: Colab is running on a CPU runtime" in report.summary()


def test_package_version_of_missing_package_is_none():
    assert env.package_version("surely-not-installed-pkg") is None
