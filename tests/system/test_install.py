"""The build as a package: make install into a staging folder puts every file in its standard place
with installed paths filled in, the systemd units and the sysusers entry pass systemd's own checks,
and make distcheck (build, test, install and uninstall from the tarball) passes."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "build"  # the build tests/run and deploy/dev/up make


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    """What a Debian package does: configure with its prefixes, build, make install DESTDIR=...
    (paths are fixed at configure time; overriding them at install time is not supported)."""
    build = tmp_path_factory.mktemp("build")
    dest = tmp_path_factory.mktemp("destdir")
    quiet = dict(check=True, stdout=subprocess.DEVNULL, cwd=str(build))
    subprocess.run([str(REPO / "configure"), "-q", "--prefix=/usr", "--sysconfdir=/etc", "--localstatedir=/var"],
                   **quiet)
    subprocess.run(["make", "-s", "-j%d" % (os.cpu_count() or 2)], **quiet)
    subprocess.run(["make", "-s", "install", "DESTDIR=%s" % dest], **quiet)
    return dest


EXPECTED = [
    "usr/sbin/webhookd",
    "usr/sbin/webhook-deliverd",
    "usr/sbin/webhookd-migrate",
    "usr/lib/systemd/system/webhookd.service",
    "usr/lib/systemd/system/webhook-deliverd.service",
    "usr/lib/systemd/system/webhookd.socket",
    "usr/lib/sysusers.d/webhookd.sysusers",
    "usr/share/webhookd/migrations/0001_schema.sql",
    "usr/share/webhookd/migrations/0002_default_webhook.sql",
    "usr/share/webhookd/migrations/0003_request_headers.sql",
    "usr/share/webhookd/migrations/0004_change_notifications.sql",
    "usr/share/webhookd/migrations/0005_webhooks.sql",
    "usr/share/webhookd/migrations/0006_delivery.sql",
    "usr/share/webhookd/www/index.html",
    "usr/share/webhookd/www/js/main.js",
    "usr/share/man/man8/webhookd.8",
    "usr/share/doc/webhookd/README.md",
    "etc/nginx/sites-available/webhookd.conf",
    "etc/webhookd/webhookd.conf",
    "etc/webhookd/webhookd.conf.example",
]


@pytest.mark.parametrize("path", EXPECTED)
def test_installed_in_its_standard_place(staged, path):
    assert (staged / path).is_file(), path


def test_installed_programs_run(staged):
    for prog in ("usr/sbin/webhookd", "usr/sbin/webhook-deliverd", "usr/sbin/webhookd-migrate"):
        assert os.access(staged / prog, os.X_OK), prog
    out = subprocess.run([str(staged / "usr/sbin/webhookd"), "--version"], stdout=subprocess.PIPE, check=True)
    assert out.stdout.decode().startswith("webhookd ")
    out = subprocess.run([str(staged / "usr/sbin/webhook-deliverd"), "--version"], stdout=subprocess.PIPE, check=True)
    assert out.stdout.decode().startswith("webhook-deliverd ")


def test_installed_files_name_installed_paths(staged):
    service = (staged / "usr/lib/systemd/system/webhookd.service").read_text()
    assert "ExecStart=/usr/sbin/webhookd -c /etc/webhookd/webhookd.conf\n" in service
    site = (staged / "etc/nginx/sites-available/webhookd.conf").read_text()
    assert "server unix:/run/webhookd/webhookd.sock;" in site
    assert "access_log /var/log/nginx/webhookd.access.log webhookd buffer=64k flush=1s;" in site
    assert "alias /usr/share/webhookd/www/;" in site
    socket_unit = (staged / "usr/lib/systemd/system/webhookd.socket").read_text()
    assert "ListenStream=/run/webhookd/webhookd.sock\n" in socket_unit
    for text in (service, site, socket_unit):
        assert not re.search(r"@[A-Z_a-z]+@", text), "a placeholder was left"


def test_the_config_file_is_not_world_readable(staged):
    # It may hold a connection string with a password.
    assert (staged / "etc/webhookd/webhookd.conf").stat().st_mode & 0o007 == 0


def test_the_installed_migrate_command_finds_its_migrations(staged):
    p = subprocess.run([str(staged / "usr/sbin/webhookd-migrate"), "host=/nonexistent dbname=x"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.decode()
    # It gets as far as connecting: the folder next to it was found.
    assert p.returncode != 0 and "no migrations folder" not in out and "/nonexistent" in out, out


def test_systemd_verifies_the_units(staged, tmp_path):
    """systemd-analyze verify on the installed units, with the staged binary and man page in reach.
    It prints nothing and exits 0 only when every key is known and every path resolves."""
    units = tmp_path / "units"
    units.mkdir()
    service = (staged / "usr/lib/systemd/system/webhookd.service").read_text()
    (units / "webhookd.service").write_text(
        service.replace("ExecStart=/usr/sbin/webhookd", "ExecStart=%s/usr/sbin/webhookd" % staged))
    shutil.copy(staged / "usr/lib/systemd/system/webhookd.socket", units / "webhookd.socket")
    deliverd = (staged / "usr/lib/systemd/system/webhook-deliverd.service").read_text()
    (units / "webhook-deliverd.service").write_text(
        deliverd.replace("ExecStart=/usr/sbin/webhook-deliverd", "ExecStart=%s/usr/sbin/webhook-deliverd" % staged))
    env = dict(os.environ, MANPATH=str(staged / "usr/share/man"))
    p = subprocess.run(["systemd-analyze", "verify", str(units / "webhookd.socket"), str(units / "webhookd.service"),
                        str(units / "webhook-deliverd.service")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=str(units))
    assert (p.returncode, p.stdout.decode()) == (0, "")


def test_systemd_service_hardening(staged):
    service = (staged / "usr/lib/systemd/system/webhookd.service").read_text()
    for line in ("Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "StandardInput=socket",
                 "StandardOutput=journal", "StandardError=journal", "User=webhookd", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                 "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "CapabilityBoundingSet=",
                 "SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes"):
        assert "\n%s\n" % line in service, line
    deliverd = (staged / "usr/lib/systemd/system/webhook-deliverd.service").read_text()
    for line in ("Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "User=webhookd", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "CapabilityBoundingSet=",
                 "SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes", "KillSignal=SIGTERM"):
        assert "\n%s\n" % line in deliverd, line
    socket_unit = (staged / "usr/lib/systemd/system/webhookd.socket").read_text()
    for line in ("SocketMode=0660", "SocketGroup=www-data"):
        assert "\n%s\n" % line in socket_unit, line


def test_sysusers_entry(staged, tmp_path):
    (tmp_path / "etc").mkdir()
    p = subprocess.run(["systemd-sysusers", "--dry-run", "--root=%s" % tmp_path,
                        str(staged / "usr/lib/sysusers.d/webhookd.sysusers")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.decode()
    assert p.returncode == 0 and "Creating user 'webhookd'" in out, out


def test_make_distcheck():
    p = subprocess.run(["make", "-s", "-C", str(BUILD), "distcheck"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    out = p.stdout.decode(errors="replace")
    assert p.returncode == 0, out[-3000:]
    assert "archives ready for distribution" in out
    for tarball in BUILD.glob("webhookd-*.tar.gz"):
        tarball.unlink()


@pytest.mark.parametrize("prog", ["usr/sbin/webhookd", "usr/sbin/webhook-deliverd"])
def test_check_config(staged, tmp_path, prog):
    """--check-config validates the settings without starting: OK and 0, or the setting at fault
    (file and line) and 1."""
    good = tmp_path / "good.conf"
    good.write_text("database = dbname=webhookd\n# a comment\nworkers = 4\ndelivery_retry_delays_ms = 500,2000\n")
    bad = tmp_path / "bad.conf"
    bad.write_text("database = dbname=webhookd\nworkers = 0\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBHOOKD_")}
    ok = subprocess.run([str(staged / prog), "-c", str(good), "--check-config"], stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, env=env)
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, b"configuration OK\n", b"")
    no = subprocess.run([str(staged / prog), "-c", str(bad), "--check-config"], stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, env=env)
    assert (no.returncode, no.stdout) == (1, b"")
    assert no.stderr == ('<3>configuration: %s:2: invalid workers "0": expected an integer from 1 to 256\n'
                         % bad).encode()
    # The environment wins over the file, and is checked too.
    env["WEBHOOKD_DELIVERY_RETRY_DELAYS_MS"] = "1,,2"
    no = subprocess.run([str(staged / prog), "-c", str(good), "--check-config"], stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, env=env)
    assert no.returncode == 1 and b"delivery_retry_delays_ms" in no.stderr
