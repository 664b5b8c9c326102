"""A private single-node Slurm cluster for the launcher tests.

Starts munged (own key and socket), slurmctld and slurmd in the foreground
as children of the test process, with a config in a temporary folder and
free ports, so nothing of the machine's own Slurm or munge is touched; all
three are stopped (and waited for) on exit. Needs root (slurmd runs job
steps as the submitting user) and Debian's slurm-wlm and munge, which
`make test` installs (`make slurm`).
"""
import contextlib
import os
import os.path as osp
import shutil
import socket
import subprocess
import time

from mmsmmix.utils.dist import free_port

DAEMONS = ('munged', 'slurmctld', 'slurmd', 'srun', 'sinfo', 'scontrol')
# Debian puts the daemons in /usr/sbin, which a user's PATH may lack.
SEARCH_PATH = os.pathsep.join([os.environ.get('PATH', ''), '/usr/sbin',
                               '/sbin'])


def _which(name: str) -> str:
    return shutil.which(name, path=SEARCH_PATH) or ''


def unavailable() -> str:
    """Why a cluster cannot start here ('' if it can)."""
    missing = [d for d in DAEMONS if not _which(d)]
    if missing:
        return (f'{", ".join(missing)} not installed (make slurm: Debian\'s '
                'slurm-wlm and munge)')
    if os.geteuid() != 0:
        return 'slurmd needs root'
    return ''


def _config(folder: str, host: str, socket_path: str) -> str:
    ctld, slurmd = free_port(), free_port()
    return f"""ClusterName=mmsmmixtest
SlurmctldHost={host}
AuthType=auth/munge
AuthInfo=socket={socket_path}
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmUser=root
SlurmdUser=root
SlurmctldPort={ctld}
SlurmdPort={slurmd}
SlurmctldPidFile={folder}/slurmctld.pid
SlurmdPidFile={folder}/slurmd.pid
SlurmdSpoolDir={folder}/spool
StateSaveLocation={folder}/state
SlurmctldLogFile={folder}/slurmctld.log
SlurmdLogFile={folder}/slurmd.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName={host} CPUs={os.cpu_count()} State=UNKNOWN
PartitionName=cpu Nodes={host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
"""


def _stop(procs) -> None:
    for proc in reversed(procs):
        if proc.poll() is None:
            proc.terminate()
    for proc in reversed(procs):
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def slurm_cluster(folder: str, timeout: float = 60):
    """Run a one-node cluster (partition ``cpu``); yields the environment
    (``SLURM_CONF``) in which srun and the launchers reach it."""
    folder = osp.abspath(folder)
    for sub in ('spool', 'state'):
        os.makedirs(osp.join(folder, sub), exist_ok=True)
    host = socket.gethostname()
    key = osp.join(folder, 'munge.key')
    with open(key, 'wb') as f:
        f.write(os.urandom(1024))
    os.chmod(key, 0o400)
    socket_path = osp.join(folder, 'munge.socket')
    conf = osp.join(folder, 'slurm.conf')
    with open(conf, 'w') as f:
        f.write(_config(folder, host, socket_path))
    env = dict(os.environ, SLURM_CONF=conf)
    procs = []
    log = open(osp.join(folder, 'daemons.out'), 'w')
    try:
        procs.append(
            subprocess.Popen([
                _which('munged'), '-F', '--force', f'--socket={socket_path}',
                f'--key-file={key}', f'--pid-file={folder}/munged.pid',
                f'--log-file={folder}/munged.log',
                f'--seed-file={folder}/munged.seed'
            ], stdout=log, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + timeout
        while not osp.exists(socket_path):
            if time.monotonic() > deadline or procs[0].poll() is not None:
                raise RuntimeError(f'munged did not start: {folder}')
            time.sleep(0.1)
        for daemon in ('slurmctld', 'slurmd'):
            procs.append(
                subprocess.Popen([_which(daemon), '-D', '-f', conf], env=env,
                                 stdout=log, stderr=subprocess.STDOUT))
        while True:
            state = subprocess.run(['sinfo', '-h', '-o', '%t'], env=env,
                                   capture_output=True, text=True).stdout
            if state.strip() == 'idle':
                break
            if time.monotonic() > deadline or any(
                    p.poll() is not None for p in procs):
                raise RuntimeError(
                    f'the Slurm node did not become idle ({state.strip()!r});'
                    f' logs in {folder}')
            time.sleep(0.5)
        yield env
    finally:
        _stop(procs)
        log.close()
