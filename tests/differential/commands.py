"""Command cases of the differential check: (name, argv, stdin, normalise).
ID, ID2 and ID3 are three running containers of the runtime under test
(ID3 is paused and resumed by the cases, in order); BUNDLES is the
directory of their bundles; @WORK@ the check's work directory. A process
file's case gives its JSON as stdin, written to a file for --process.
FRESH is a bundle running `true` for the containers a case makes itself
(bundles2/fresh-@TAG@ relative to the work directory, the case's cwd);
they are deleted after each case. A case may be a sequence of argvs;
["@wait-stopped", ID] polls until that container is stopped."""
import json

CASES = []


def c(name, args, inp=None, norm=None):
    CASES.append((name, args, inp, norm))


def stripcg(s):
    return s.replace("/cb", "/cX").replace("/cr", "/cX")


c("exec-id", ["exec", "ID", "id"])
c("exec-user", ["exec", "--user", "1:2", "ID", "id"])
c("exec-user-name", ["exec", "--user", "daemon", "ID", "id"])
c("exec-user-bad", ["exec", "--user", "nosuch", "ID", "id"])
c("exec-addgid", ["exec", "--user", "1:2", "--additional-gids", "5", "--additional-gids", "6", "ID", "id"])
c("exec-cwd", ["exec", "--cwd", "/tmp", "ID", "pwd"])
c("exec-cwd-missing", ["exec", "--cwd", "/nonexist", "ID", "pwd"])
c("exec-cwd-rel", ["exec", "--cwd", "tmp", "ID", "pwd"])
c("exec-env", ["exec", "--env", "A=1", "--env", "PATH=/x:/bin", "ID", "sh", "-c", "echo $A $PATH"])
c("exec-env-noeq", ["exec", "--env", "A", "ID", "sh", "-c", "echo [$A]"])
c("exec-cap", ["exec", "--cap", "CAP_SYS_ADMIN", "ID", "grep", "CapEff", "/proc/self/status"])
c("exec-cap-lower", ["exec", "--cap", "cap_sys_admin", "ID", "grep", "CapEff", "/proc/self/status"])
c("exec-cap-bad", ["exec", "--cap", "CAP_FOO", "ID", "grep", "CapEff", "/proc/self/status"])
c("exec-nnp", ["exec", "--no-new-privs", "ID", "grep", "NoNewPrivs", "/proc/self/status"])
c("exec-missing", ["exec", "ID", "/nosuch"])
c("exec-noargs", ["exec", "ID"])
c("exec-exit", ["exec", "ID", "sh", "-c", "exit 7"])
c("exec-signal", ["exec", "ID", "sh", "-c", "kill -9 $$"])
c("exec-notfound-rel", ["exec", "ID", "nosuchcmd"])
c("exec-dir", ["exec", "ID", "/tmp"])
c("exec-env-file", ["exec", "--env", "HOME=/x", "ID", "sh", "-c", "echo $HOME"])
c("exec-ignore-paused", ["exec", "--ignore-paused", "ID", "true"])
c("exec-apparmor", ["exec", "--apparmor", "foo", "ID", "true"])
c("exec-label", ["exec", "--process-label", "foo", "ID", "true"])
c("exec-tty-nosock", ["exec", "-t", "ID", "true"])
c("exec-detach-pidfile", ["exec", "-d", "--pid-file", "@WORK@/pf", "ID", "true"])
c("exec-pidfile-rel", ["exec", "--pid-file", "relpf", "ID", "true"])
c("exec-preserve", ["exec", "--preserve-fds", "1", "ID", "sh", "-c", "ls /proc/self/fd | wc -l"])
c("exec-preserve-neg", ["exec", "--preserve-fds", "-1", "ID", "true"])
c("exec-subcg", ["exec", "--cgroup", "sub", "ID", "cat", "/proc/self/cgroup"], norm=stripcg)
c("exec-process-bad", ["exec", "--process", "/nonexistent.json", "ID"])
c("exec-process-stdin", ["exec", "--process", "-", "ID"], inp='{"args":["echo","fromstdin"],"cwd":"/"}')
c("exec-process-nocwd", ["exec", "--process", "-", "ID"], inp='{"args":["pwd"]}')
c("exec-process-noargs", ["exec", "--process", "-", "ID"], inp='{"cwd":"/"}')
c("exec-process-terminal", ["exec", "--process", "-", "ID"], inp='{"args":["true"],"cwd":"/","terminal":true}')
c("exec-process-rlimit", ["exec", "--process", "-", "ID"], inp='{"args":["sh","-c","ulimit -n"],"cwd":"/","rlimits":[{"type":"RLIMIT_NOFILE","hard":50,"soft":40}]}')
c("exec-process-caps-none", ["exec", "--process", "-", "ID"], inp='{"args":["grep","Cap","/proc/self/status"],"cwd":"/"}')
c("exec-process-user", ["exec", "--process", "-", "ID"], inp='{"args":["id"],"cwd":"/","user":{"uid":5,"gid":6,"additionalGids":[7]}}')
c("exec-process-env-none", ["exec", "--process", "-", "ID"], inp='{"args":["sh","-c","env | sort"],"cwd":"/"}')
c("exec-process-oom", ["exec", "--process", "-", "ID"], inp='{"args":["cat","/proc/self/oom_score_adj"],"cwd":"/","oomScoreAdj":100}')
c("exec-process-umask", ["exec", "--process", "-", "ID"], inp='{"args":["sh","-c","umask"],"cwd":"/","user":{"uid":0,"gid":0,"umask":63}}')
c("exec-process-extra-flags", ["exec", "--process", "-", "--user", "1", "ID"], inp='{"args":["id"],"cwd":"/"}')
c("update-mem", ["update", "--memory", "100M", "ID"])
c("update-mem-bad", ["update", "--memory", "foo", "ID"])
c("update-mem-small", ["update", "--memory", "1", "ID"])
c("update-memswap", ["update", "--memory", "100M", "--memory-swap", "50M", "ID"])
c("update-memswap-neg", ["update", "--memory-swap", "-1", "ID"])
c("update-cpu", ["update", "--cpu-shares", "100", "--cpu-quota", "10000", "--cpu-period", "100000", "ID"])
c("update-cpu-quota-only", ["update", "--cpu-quota", "20000", "ID"])
c("update-cpus", ["update", "--cpuset-cpus", "0", "ID"])
c("update-cpus-bad", ["update", "--cpuset-cpus", "99", "ID"])
c("update-pids", ["update", "--pids-limit", "20", "ID"])
c("update-pids-0", ["update", "--pids-limit", "0", "ID"])
c("update-pids-neg", ["update", "--pids-limit", "-1", "ID"])
c("update-blkio", ["update", "--blkio-weight", "300", "ID"])
c("update-blkio-bad", ["update", "--blkio-weight", "5", "ID"])
c("update-kmem", ["update", "--kernel-memory", "100M", "ID"])
c("update-kmemtcp", ["update", "--kernel-memory-tcp", "100M", "ID"])
c("update-rdt", ["update", "--l3-cache-schema", "L3:0=f", "ID"])
c("update-rt", ["update", "--cpu-rt-runtime", "1000", "ID"])
c("update-idle", ["update", "--cpu-idle", "1", "ID"])
c("update-json", ["update", "-r", "-", "ID"], inp='{"memory":{"limit":200000000},"pids":{"limit":30}}')
c("update-json-bad", ["update", "-r", "-", "ID"], inp='{"memory":{"limit":"x"}}')
c("update-json-empty", ["update", "-r", "-", "ID"], inp='')
c("update-noflags", ["update", "ID"])
c("kill-default", ["kill", "ID2"])
c("kill-num", ["kill", "ID2", "0"])
c("kill-name", ["kill", "ID2", "SIGCONT"])
c("kill-short", ["kill", "ID2", "CONT"])
c("kill-lower", ["kill", "ID2", "cont"])
c("kill-bad", ["kill", "ID2", "FOO"])
c("kill-big", ["kill", "ID2", "99"])
c("kill-rt", ["kill", "ID2", "SIGRTMIN+1"])
c("kill-all", ["kill", "--all", "ID2", "0"])
c("ps", ["ps", "ID", "-o", "pid,comm"], norm=lambda s: "\n".join(l.split()[-1] for l in s.splitlines()))
c("ps-json", ["ps", "--format", "json", "ID"], norm=lambda s: str(len(json.loads(s))) if s.strip().startswith("[") else s)
c("ps-bad-format", ["ps", "--format", "yaml", "ID"])
c("list-bad-format", ["list", "--format", "yaml"])
c("state-missing", ["state", "nosuch"])
c("events-stats", ["events", "--stats", "ID"], norm=lambda s: ",".join(sorted(json.loads(s).get("data", {}).keys())) if s.strip() else s)
c("pause-resume", ["pause", "ID3"])
c("pause-again", ["pause", "ID3"])
c("exec-paused", ["exec", "ID3", "true"])
c("resume", ["resume", "ID3"])
c("resume-again", ["resume", "ID3"])
c("delete-running", ["delete", "ID3"])
c("start-running", ["start", "ID3"])
c("create-exists", ["create", "--bundle", "BUNDLES/ID3", "ID3"])
c("checkpoint-noimg", ["checkpoint", "--image-path", "/nonexistent/x", "--leave-running", "--criu", "/nonexistent/criu", "ID3"])


def status(s):
    return json.loads(s)["status"] if s.strip().startswith("{") else s


def lines(s):
    return str(len(s.strip().splitlines()))


# Container IDs (runc: letters, digits, "_+-.", not "." or "..").
for n, cid in [("dotdot", "../x"), ("slash", "a/b"), ("dot", "."), ("dot2", ".."), ("space", "a b"),
               ("colon", "a:b"), ("long", "x" * 300), ("unicode", "\u00e9"), ("lead-dash", "-x"),
               ("punct", "a+b.c-d_e"), ("empty", ""), ("newline", "a\nb")]:
    c("create-id-" + n, ["create", "--bundle", "FRESH", cid])
c("create-noid", ["create", "--bundle", "FRESH"])
c("create-extra-arg", ["create", "--bundle", "FRESH", "fr", "extra"])
c("create-bundle-missing", ["create", "--bundle", "/nonexistent", "fr"])
c("create-bundle-rel", ["create", "--bundle", "bundles2/fresh-@TAG@", "fr"])
c("create-bundle-file", ["create", "--bundle", "FRESH/config.json", "fr"])
c("create-pidfile-nodir", ["create", "--pid-file", "/nonexistent/dir/pf", "--bundle", "FRESH", "fr"])
c("create-console-socket-missing", ["create", "--console-socket", "/nonexistent.sock", "--bundle", "FRESH", "fr"])
c("create-preserve-fds-neg", ["create", "--preserve-fds", "-1", "--bundle", "FRESH", "fr"])
c("create-no-pivot", [["create", "--no-pivot", "--bundle", "FRESH", "fr"], ["state", "fr"]], norm=status)
c("create-no-new-keyring", [["create", "--no-new-keyring", "--bundle", "FRESH", "fr"], ["state", "fr"]], norm=status)
c("create-exists-id", [["create", "--bundle", "FRESH", "fr"], ["create", "--bundle", "FRESH", "fr"]])
c("run-detach-notty", [["run", "-d", "--bundle", "FRESH", "fr"], ["@wait-stopped", "fr"], ["state", "fr"]], norm=status)
c("run-keep", [["run", "--keep", "--bundle", "FRESH", "fr"], ["state", "fr"]], norm=status)
c("run-console-socket-notty", ["run", "--console-socket", "@WORK@/sock", "--bundle", "FRESH", "fr"])
c("run-pidfile-rel", [["run", "-d", "--pid-file", "rpf", "--bundle", "FRESH", "fr"], ["@wait-stopped", "fr"]])
# The lifecycle's wrong states.
c("seq-state-created", [["create", "--bundle", "FRESH", "fr"], ["state", "fr"]], norm=status)
c("seq-start-twice", [["create", "--bundle", "FRESH", "fr"], ["start", "fr"], ["@wait-stopped", "fr"], ["start", "fr"]])
c("seq-delete-created", [["create", "--bundle", "FRESH", "fr"], ["delete", "fr"], ["state", "fr"]])
c("seq-delete-twice", [["create", "--bundle", "FRESH", "fr"], ["delete", "-f", "fr"], ["delete", "fr"]])
c("seq-delete-force-missing", ["delete", "-f", "nosuch"])
c("seq-exec-created", [["create", "--bundle", "FRESH", "fr"], ["exec", "fr", "true"]])
c("seq-exec-stopped", [["run", "--keep", "--bundle", "FRESH", "fr"], ["exec", "fr", "true"]])
c("seq-kill-created", [["create", "--bundle", "FRESH", "fr"], ["kill", "fr", "KILL"], ["@wait-stopped", "fr"],
                       ["state", "fr"]], norm=status)
c("seq-kill-created-term", [["create", "--bundle", "FRESH", "fr"], ["kill", "fr", "TERM"], ["@wait-stopped", "fr"]])
c("seq-kill-stopped", [["create", "--bundle", "FRESH", "fr"], ["kill", "fr", "KILL"], ["@wait-stopped", "fr"],
                       ["kill", "fr", "KILL"]])
c("seq-kill-all-stopped", [["run", "--keep", "--bundle", "FRESH", "fr"], ["kill", "--all", "fr", "KILL"]])
c("seq-pause-created", [["create", "--bundle", "FRESH", "fr"], ["pause", "fr"], ["state", "fr"]], norm=status)
c("seq-pause-stopped", [["run", "--keep", "--bundle", "FRESH", "fr"], ["pause", "fr"]])
c("seq-resume-created", [["create", "--bundle", "FRESH", "fr"], ["resume", "fr"]])
c("seq-update-created", [["create", "--bundle", "FRESH", "fr"], ["update", "--pids-limit", "10", "fr"]])
c("seq-update-stopped", [["run", "--keep", "--bundle", "FRESH", "fr"], ["update", "--pids-limit", "10", "fr"]])
c("seq-ps-created", [["create", "--bundle", "FRESH", "fr"], ["ps", "fr"]], norm=lines)
c("seq-ps-stopped", [["run", "--keep", "--bundle", "FRESH", "fr"], ["ps", "fr"]], norm=lines)
c("seq-events-stopped", [["run", "--keep", "--bundle", "FRESH", "fr"], ["events", "--stats", "fr"]], norm=lines)
c("seq-list-created", [["create", "--bundle", "FRESH", "fr"], ["list", "-q"]],
  norm=lambda s: " ".join(sorted(x for x in s.split() if x == "fr")))
c("seq-list-json", [["create", "--bundle", "FRESH", "fr"], ["list", "--format", "json"]],
  norm=lambda s: " ".join(sorted(x["id"] + ":" + x["status"] for x in json.loads(s) if x["id"] == "fr"))
  if s.strip() else s)
# Arguments and global flags.
c("exec-wait-fifo-notfifo", ["exec", "--exec-wait-fifo", "@WORK@/sock", "ID", "true"])
c("exec-wait-fifo-missing", ["exec", "--exec-wait-fifo", "@WORK@/nofifo", "ID", "true"])
c("state-noid", ["state"])
c("state-extra", ["state", "ID", "extra"])
c("kill-noid", ["kill"])
c("kill-extra", ["kill", "ID2", "TERM", "extra"])
c("delete-noid", ["delete"])
c("exec-noid", ["exec"])
c("log-format-bad", ["--log-format", "yaml", "state", "ID"], norm=status)
c("log-format-json", ["--log-format", "json", "--log", "@WORK@/log.json", "state", "ID"], norm=status)
c("debug-state", ["--debug", "state", "ID"], norm=status)
c("unknown-command", ["nosuchcommand"])
c("unknown-flag", ["state", "--nosuchflag", "ID"])
c("list-quiet", ["list", "-q"], norm=lambda s: str(len(s.split())))
c("spec-exists", ["spec", "--bundle", "FRESH"])
c("spec-rootless", ["spec", "--rootless", "--bundle", "@WORK@/specdir-@TAG@"])
