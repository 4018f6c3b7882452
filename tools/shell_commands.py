"""What the shell classifier knows about commands: the danger levels in
order, the commands that are read-only, write, destroy, reach the network,
install packages, gain privilege, dump the environment or kill processes, the
shells and interpreters, the git subcommands and ``-c`` keys that matter, and
the paths and environment variables that change what a command does. Plain
tables, kept apart from :mod:`agentkit.tools.shell_danger` so that the rules
it applies read without scrolling past them and a reviewer can audit the lists
on their own; shell_danger.py re-exports every name here."""

from __future__ import annotations

import re

from agentkit.tools.base import DangerLevel

LEVELS: tuple[DangerLevel, ...] = ("safe", "unknown", "dangerous", "destructive")

SAFE_COMMANDS = frozenset(
    """ls cat head tail wc grep egrep fgrep rg ag echo printf pwd date whoami id uname which type
    file stat du df sort uniq cut tr diff cmp comm nl basename dirname realpath readlink tree true
    false test [ seq sleep more jq find md5sum sha1sum sha256sum xxd od hexdump column fold rev
    tac paste join expr cd : locale hostname nproc free uptime sed awk less""".split()
)
WRITE_COMMANDS = frozenset("mkdir touch cp mv ln tee install patch rmdir".split())
DESTRUCTIVE_COMMANDS = frozenset(
    "rm shred dd wipefs fdisk sfdisk parted mkswap truncate srm unlink shutdown reboot halt poweroff".split()
)
NETWORK_COMMANDS = frozenset(
    "curl wget nc ncat netcat ssh scp sftp rsync ftp telnet socat ping dig nslookup host whois".split()
)
PACKAGE_MANAGERS = frozenset(
    "pip pip3 npm pnpm yarn apt apt-get yum dnf brew cargo gem go conda uv".split()
)
INSTALL_VERBS = frozenset("install i add update upgrade remove uninstall get sync".split())
PRIVILEGE_COMMANDS = frozenset("sudo su doas pkexec".split())
ENV_DUMPERS = frozenset("printenv".split())
PROCESS_KILLERS = frozenset("kill pkill killall".split())
SHELLS = frozenset("sh bash zsh dash ksh fish csh tcsh".split())
INTERPRETERS = SHELLS | frozenset("python python3 perl ruby node php lua Rscript".split())
WRAPPERS = frozenset("nice nohup time command builtin stdbuf ionice".split())
GIT_SAFE = frozenset(
    "status log diff show branch rev-parse ls-files blame grep describe shortlog tag remote config".split()
)
GIT_NETWORK = frozenset("push pull fetch clone submodule".split())
SAFE_DEVICES = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"})
SECRET_PATTERNS = re.compile(
    r"(\.ssh|\.aws|\.gnupg|\.netrc|\.docker/config|id_rsa|id_ed25519|/etc/shadow|/etc/sudoers|/environ\b|\.env\b|credentials|\.kube/config|\.pgpass)"
)


# ``git -c KEY=VALUE`` keys that make git run a command.
GIT_EXEC_KEYS = re.compile(
    r"^(core\.(pager|editor|fsmonitor|sshcommand|hookspath|askpass|gitproxy|alternaterefscommand)"
    r"|alias\.|pager\.|include\.|includeif\.|credential\.|gpg\.|sequence\.editor|diff\.external"
    r"|uploadpack\.|protocol\.|.*\.(textconv|command|cmd|helper|program|clean|smudge|process|tool))",
    re.IGNORECASE,
)
# Environment assignments that change what a command runs.
EXEC_VARIABLES = frozenset(
    {
        "PATH",
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "PYTHONPATH",
        "PYTHONSTARTUP",
        "BASH_ENV",
        "ENV",
        "IFS",
        "PROMPT_COMMAND",
        "PAGER",
        "EDITOR",
        "VISUAL",
        "LESSOPEN",
        "GIT_PAGER",
        "GIT_EDITOR",
        "GIT_SSH",
        "GIT_SSH_COMMAND",
        "GIT_EXTERNAL_DIFF",
        "GIT_ASKPASS",
        "GIT_DIR",
        "GIT_CONFIG",
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_SYSTEM",
        "GIT_CONFIG_PARAMETERS",
        "GIT_CONFIG_COUNT",
        "GIT_EXEC_PATH",
        "GIT_TEMPLATE_DIR",
    }
)
