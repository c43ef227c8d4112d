import shutil

from aiaas_lib import cli, config


def test_env_command_prints_check(capsys):
    code = cli.main(["env"])
    out = capsys.readouterr().out
    assert code == 0 and "device:" in out


def test_data_command_verifies_all(capsys):
    assert cli.main(["data"]) == 0
    assert "8 files match data/manifest.json" in capsys.readouterr().out


def test_data_command_fails_on_corrupt_file(tmp_path, monkeypatch, capsys):
    target = tmp_path / "data"
    shutil.copytree(config.data_dir(), target)
    (target / "ames_housing.csv.gz").write_bytes(b"not gzip")
    monkeypatch.setenv("AIAAS_DATA_DIR", str(target))
    assert cli.main(["data"]) == 1
    assert "ames_housing.csv.gz is corrupt" in capsys.readouterr().err


def test_console_script_is_installed():
    assert shutil.which("aiaas") or (config.PROJECT_ROOT / ".venv" / "bin" / "aiaas").exists()
