"""The development stack is safe to leave running (deploy/dev/stack): its daemons come back by
themselves when they die, what it writes is not readable by other users where it need not be, and
no password is ever on a command line."""
import grp
import os
import secrets
import shutil
import signal
import stat
import subprocess

import pytest

from e2e_support import DEFAULT_BODY, REPO, STACK, basic, pid_alive, private_stack, wait_until


@pytest.fixture(scope="module")
def dev_stack():
    with private_stack("webhookd-faults-dev-", "devi") as s:
        yield s


@pytest.fixture
def dev(dev_stack):
    """The module's stack, whole again after each test."""
    try:
        yield dev_stack
    finally:
        try:
            whole = all(pid_alive(read_pid(dev_stack.dir / name))
                        for name in ("webhookd.pid", "deliverd.pid", "webhookd.pid.supervisor",
                                     "deliverd.pid.supervisor")) and dev_stack.post().status == 200
        except (OSError, ValueError):
            whole = False
        if not whole:
            dev_stack.start()


def read_pid(path):
    return int(path.read_text().strip())



DAEMONS = {"webhookd": ("webhookd.pid", "webhookd.log"), "webhook-deliverd": ("deliverd.pid", "deliverd.log")}


@pytest.mark.parametrize("daemon", list(DAEMONS))
def test_a_killed_daemon_comes_back_by_itself(dev, daemon):
    pid_file, log_name = (dev.dir / DAEMONS[daemon][0]), dev.dir / "log" / DAEMONS[daemon][1]
    supervisor = read_pid(pid_file.with_name(pid_file.name + ".supervisor"))
    old = read_pid(pid_file)
    offset = log_name.stat().st_size
    os.kill(old, signal.SIGKILL)

    def restarted():
        try:
            pid = read_pid(pid_file)
        except (OSError, ValueError):
            return False
        return pid != old and pid_alive(pid) and b"ready:" in log_name.read_bytes()[offset:]
    wait_until("%s to be started again" % daemon, restarted)
    text = log_name.read_text()[offset:]
    assert "<4>deploy/dev/stack: %s (pid %d) ended with status 137; starting it again in 1 s" % (daemon, old) in text
    assert pid_alive(supervisor) and read_pid(pid_file.with_name(pid_file.name + ".supervisor")) == supervisor
    wait_until("the stack to answer", lambda: dev.post().status == 200)
    assert dev.post().body == DEFAULT_BODY


def test_a_clean_stop_is_not_undone(dev):
    """SIGTERM is how an operator stops a daemon: it exits 0 and its supervisor lets it be."""
    supervisor = read_pid(dev.dir / "webhookd.pid.supervisor")
    dev.kill_daemon(signal.SIGTERM)
    wait_until("the supervisor to end with its daemon", lambda: not pid_alive(supervisor))
    assert not dev.daemon_alive()
    assert dev.post().status == 503  # nginx's: nobody serves until the stack is started again


def test_stop_leaves_nothing_running(dev):
    pids = [read_pid(dev.dir / name) for name in ("webhookd.pid", "deliverd.pid", "webhookd.pid.supervisor",
                                                    "deliverd.pid.supervisor")]
    pids.append(read_pid(dev.dir / "nginx" / "nginx.pid"))
    assert all(pid_alive(p) for p in pids)
    dev.stop()
    assert not [p for p in pids if pid_alive(p)]


# Paths of the stack that other users may read or search, and how much of it.
PUBLIC = {
    "": 0o001, "log": 0o001, "bin": 0o001, "nginx": 0o001, "pg": 0o001, "pg/sock": 0o001,  # searched by name
    "bin/webhookd": 0o005, "bin/webhook-deliverd": 0o005,  # programs, not secrets
    "pg/sock/.s.PGSQL.5432": 0o007,  # PostgreSQL's socket: peer authentication decides who gets in
}


def test_the_stack_files_are_private(dev):
    found = {}
    for root, dirs, files in os.walk(dev.dir):
        for name in dirs + files:
            path = os.path.join(root, name)
            found[os.path.relpath(path, dev.dir)] = os.lstat(path).st_mode
    found[""] = os.lstat(dev.dir).st_mode
    assert "log/webhookd.log" in found and "pg/data/PG_VERSION" in found and "nginx/nginx.conf" in found
    wide = {p: oct(stat.S_IMODE(m)) for p, m in found.items() if m & 0o007 & ~PUBLIC.get(p, 0)}
    assert not wide, "readable or writable by any user: %s" % wide
    conf = os.stat(dev.dir / "webhookd.conf")
    assert (stat.S_IMODE(conf.st_mode), conf.st_uid, conf.st_gid) == (0o640, 0, grp.getgrnam("webhookd").gr_gid)
    # Still working with them: the daemon re-reads its settings on SIGHUP, as the webhookd user.
    log = dev.dir / "log" / "webhookd.log"
    offset = log.stat().st_size
    os.kill(dev.daemon_pid(), signal.SIGHUP)
    wait_until("the reload", lambda: b"reload: configuration applied" in log.read_bytes()[offset:])
    assert dev.post().body == DEFAULT_BODY


def test_seed_takes_the_password_on_stdin_and_never_on_a_command_line(dev, tmp_path):
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed (deploy/dev/lib.sh lists it)")
    password = "pw-" + secrets.token_urlsafe(18)
    dev.secrets.add(password)
    trace = tmp_path / "execve.txt"
    proc = subprocess.run(["strace", "-f", "-qq", "-e", "trace=execve", "-s", "65536", "-o", str(trace),
                           str(STACK), "seed", str(dev.dir), "carla"], input=(password + "\n").encode(),
                          cwd=str(REPO), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120,
                          # LeakSanitizer cannot run under ptrace (a sanitizer build's --hash-password)
                          env=dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0"))
    assert proc.returncode == 0, proc.stdout
    text = trace.read_text(errors="replace")
    assert "--hash-password" in text  # the trace saw the children
    stored = dev.sql("SELECT password_hash FROM associate WHERE name = 'carla'")[0][0]
    assert password not in text
    assert stored not in text and stored.split("$")[-1] not in text
    assert dev.post(auth=basic("carla", password)).body == DEFAULT_BODY


def test_seed_refuses_a_password_argument(dev):
    password = "pw-" + secrets.token_urlsafe(18)
    proc = subprocess.run([str(STACK), "seed", str(dev.dir), "carlos", password], cwd=str(REPO),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert proc.returncode != 0
    assert b"standard input" in proc.stdout
    assert dev.sql("SELECT count(*) FROM associate WHERE name = 'carlos'")[0][0] == 0
    # And with nothing on standard input there is nothing to seed either.
    proc = subprocess.run([str(STACK), "seed", str(dev.dir), "carlos"], cwd=str(REPO), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert proc.returncode != 0
    assert dev.sql("SELECT count(*) FROM associate WHERE name = 'carlos'")[0][0] == 0
