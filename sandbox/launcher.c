/* sluice-launcher: the native exec path of one sandboxed job.
 *
 * Python decides everything (cgroups, limits, view); this program only performs
 * the steps that must happen between fork and exec, in order, each failing with
 * "sluice-launcher: <step>: <error>" and exit code 125:
 *
 *   1. join the job's cgroups (before anything else: race-free accounting)
 *   2. unshare mount, pid, uts, ipc (and net unless --net host) namespaces
 *   3. fork pid 1 of the new pid namespace, which dies with us (PDEATHSIG)
 *   4. build the view: tmpfs root, read-only binds, /proc, /dev (device nodes), /tmp,
 *      /scratch (the host's, when it holds working files, else a fresh tmpfs)
 *   5. pivot_root into it; loopback up when asked; hostname
 *   6. pid 1 forks the job (pid 2) and reaps; it reports the job's wait status on
 *      --status-fd and exits, which kills whatever the job left in the namespace
 *   7. the job: default signal dispositions, new session, rlimits, no groups,
 *      unprivileged uid/gid, no_new_privs, chdir, exec
 *
 * Usage: sluice-launcher [options] -- ARGV...   (see sandbox/launch.py)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ITEMS 64
#define NEWROOT "/run/sluice-newroot"

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x1
#define MOUNT_ATTR_NOSUID 0x2
#define MOUNT_ATTR_NODEV 0x4
#endif
struct mount_attr_arg { uint64_t attr_set, attr_clr, propagation, userns_fd; };

static const char *cgroup_procs[MAX_ITEMS]; static int n_cgroups;
static const char *ro_paths[MAX_ITEMS]; static int n_ro;
static const char *dev_paths[MAX_ITEMS]; static int n_devs;
static struct { int resource; rlim_t value; } rlimits[16]; static int n_rlimits;
static const char *scratch, *hostname = "sandbox", *workdir = "/scratch", *net = "none";
static long tmp_size = 64L << 20, scratch_size = 0;
static uid_t uid = 65534; static gid_t gid = 65534;
static int status_fd = -1;

static void die(const char *step, const char *what) {
  fprintf(stderr, "sluice-launcher: %s%s%s: %s\n", step, what ? " " : "", what ? what : "", strerror(errno));
  _exit(125);
}

static void write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, text, strlen(text)) < 0) die("join cgroup", path);
  close(fd);
}

static void mkdirs(const char *path, mode_t mode) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++)
    if (*p == '/') { *p = 0; mkdir(buf, mode); *p = '/'; }
  if (mkdir(buf, mode) < 0 && errno != EEXIST) die("mkdir", path);
}

static void touch(const char *path) {
  int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) die("create", path);
  close(fd);
}

/* Bind a host path read-only (recursively), nosuid and nodev, at the same path in the new root. */
static void ro_bind(const char *path) {
  char dest[4096], target[4096];
  struct stat st;
  snprintf(dest, sizeof dest, NEWROOT "%s", path);
  if (lstat(path, &st) < 0) return;  /* absent on this host: nothing to show */
  if (S_ISLNK(st.st_mode)) {          /* merged-/usr hosts: /bin -> usr/bin */
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n < 0) die("readlink", path);
    target[n] = 0;
    char parent[4096]; snprintf(parent, sizeof parent, "%s", dest);
    *strrchr(parent, '/') = 0; mkdirs(parent, 0755);
    if (symlink(target, dest) < 0 && errno != EEXIST) die("symlink", dest);
    return;
  }
  if (S_ISDIR(st.st_mode)) mkdirs(dest, 0755);
  else { char parent[4096]; snprintf(parent, sizeof parent, "%s", dest); *strrchr(parent, '/') = 0;
         mkdirs(parent, 0755); touch(dest); }
  if (mount(path, dest, NULL, MS_BIND | MS_REC, NULL) < 0) die("bind", path);
  struct mount_attr_arg attr = { MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0, 0, 0 };
  if (syscall(SYS_mount_setattr, -1, dest, AT_RECURSIVE, &attr, sizeof attr) < 0 &&
      mount(NULL, dest, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
    die("read-only remount", path);
}

/* A host device node at the same path in the new /dev: a node of the same type and number (cheaper
 * than a bind mount, to set up and to tear down), or a bind where the devices cgroup forbids mknod. */
static void dev_node(const char *path) {
  char dest[4096];
  struct stat st;
  snprintf(dest, sizeof dest, NEWROOT "%s", path);
  if (stat(path, &st) < 0) die("stat device", path);
  if ((S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) &&
      mknod(dest, st.st_mode & (S_IFMT | 0777), st.st_rdev) == 0) {
    if (chmod(dest, st.st_mode & 0777) < 0) die("chmod device", path);  /* the umask narrowed it */
    return;
  }
  touch(dest);
  if (mount(path, dest, NULL, MS_BIND, NULL) < 0) die("bind device", path);
}

static void build_view(void) {
  char opts[128];
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("make mounts private", NULL);
  mkdirs(NEWROOT, 0755);
  if (mount("sluice", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755") < 0) die("mount root tmpfs", NULL);
  for (int i = 0; i < n_ro; i++) ro_bind(ro_paths[i]);
  mkdirs(NEWROOT "/proc", 0555);
  if (mount("proc", NEWROOT "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) die("mount /proc", NULL);
  mkdirs(NEWROOT "/dev", 0755);
  if (mount("dev", NEWROOT "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0755") < 0) die("mount /dev", NULL);
  static const char *std_devs[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom" };
  for (unsigned i = 0; i < sizeof std_devs / sizeof *std_devs; i++) dev_node(std_devs[i]);
  for (int i = 0; i < n_devs; i++) dev_node(dev_paths[i]);
  if (symlink("/proc/self/fd", NEWROOT "/dev/fd") < 0) die("symlink", "/dev/fd");
  mkdirs(NEWROOT "/tmp", 01777);
  snprintf(opts, sizeof opts, "size=%ld,mode=1777", tmp_size);
  if (mount("tmp", NEWROOT "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0) die("mount /tmp", NULL);
  if (scratch) {  /* prepared by the host (it holds working files) */
    mkdirs(NEWROOT "/scratch", 0755);
    if (mount(scratch, NEWROOT "/scratch", NULL, MS_BIND, NULL) < 0) die("bind scratch", scratch);
    if (mount(NULL, NEWROOT "/scratch", NULL, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV, NULL) < 0)
      die("remount scratch", NULL);
  } else if (scratch_size > 0) {  /* a fresh tmpfs, gone with the namespace */
    mkdirs(NEWROOT "/scratch", 0755);
    snprintf(opts, sizeof opts, "size=%ld,mode=0700,uid=%u,gid=%u", scratch_size, (unsigned)uid, (unsigned)gid);
    if (mount("scratch", NEWROOT "/scratch", "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0) die("mount /scratch", NULL);
  }
  /* The root tmpfs itself becomes read-only: writes to / fail with EROFS. */
  if (mount(NULL, NEWROOT, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "size=1m,mode=0755") < 0)
    die("read-only root", NULL);
  if (chdir(NEWROOT) < 0) die("chdir", NEWROOT);
  if (syscall(SYS_pivot_root, ".", ".") < 0) die("pivot_root", NULL);
  if (umount2(".", MNT_DETACH) < 0) die("detach old root", NULL);
  if (chdir("/") < 0) die("chdir", "/");
}

static void loopback_up(void) {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr = {0};
  if (sock < 0) die("socket", NULL);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) die("loopback flags", NULL);
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) die("loopback up", NULL);
  close(sock);
}

/* Every signal at its default and none blocked, as if the job were started fresh: the spawner may
 * ignore some (Python ignores SIGPIPE and SIGXFSZ; glibc's posix_spawn ignores its internal 32 and
 * 33), and ignored dispositions survive exec. The raw syscall reaches the signals glibc reserves. */
static void default_signals(void) {
  struct { void *handler; unsigned long flags; void *restorer; uint64_t mask; } dfl = {0};
  sigset_t none;
  for (int sig = 1; sig <= 64; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, NULL) < 0) die("sigprocmask", NULL);
}

static void exec_job(char **argv) {
  default_signals();
  if (setsid() < 0) die("setsid", NULL);
  for (int i = 0; i < n_rlimits; i++) {
    struct rlimit rl = { rlimits[i].value, rlimits[i].value };
    if (setrlimit(rlimits[i].resource, &rl) < 0) die("setrlimit", NULL);
  }
  if (setgroups(0, NULL) < 0) die("setgroups", NULL);
  if (setresgid(gid, gid, gid) < 0) die("setgid", NULL);
  if (setresuid(uid, uid, uid) < 0) die("setuid", NULL);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die("no_new_privs", NULL);
  if (chdir(workdir) < 0) die("chdir", workdir);
  execvp(argv[0], argv);
  fprintf(stderr, "sluice-launcher: exec %s: %s\n", argv[0], strerror(errno));
  _exit(127);
}

/* pid 1: reap everything, report the job's status, exit (which kills the rest). */
static int run_init(pid_t job) {
  int status, job_status = 0;
  pid_t pid;
  for (;;) {
    pid = wait(&status);
    if (pid == job) {
      job_status = status;
      if (status_fd >= 0) { int32_t s = status; (void)!write(status_fd, &s, sizeof s); }
      break;
    }
    if (pid < 0 && errno != EINTR) break;
  }
  return WIFEXITED(job_status) ? WEXITSTATUS(job_status) : 128 + WTERMSIG(job_status);
}

static int rlimit_id(const char *name) {
  if (!strcmp(name, "nofile")) return RLIMIT_NOFILE;
  if (!strcmp(name, "fsize")) return RLIMIT_FSIZE;
  if (!strcmp(name, "core")) return RLIMIT_CORE;
  if (!strcmp(name, "stack")) return RLIMIT_STACK;
  errno = EINVAL; die("unknown rlimit", name); return -1;
}

int main(int argc, char **argv) {
  int i = 1;
  for (; i < argc && strcmp(argv[i], "--"); i++) {
    const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (!val) { errno = EINVAL; die("missing value for", opt); }
    i++;
    if (!strcmp(opt, "--cgroup-procs") && n_cgroups < MAX_ITEMS) cgroup_procs[n_cgroups++] = val;
    else if (!strcmp(opt, "--ro") && n_ro < MAX_ITEMS) ro_paths[n_ro++] = val;
    else if (!strcmp(opt, "--dev") && n_devs < MAX_ITEMS) dev_paths[n_devs++] = val;
    else if (!strcmp(opt, "--scratch")) scratch = val;
    else if (!strcmp(opt, "--tmp-size")) tmp_size = atol(val);
    else if (!strcmp(opt, "--scratch-size")) scratch_size = atol(val);
    else if (!strcmp(opt, "--hostname")) hostname = val;
    else if (!strcmp(opt, "--workdir")) workdir = val;
    else if (!strcmp(opt, "--net")) net = val;
    else if (!strcmp(opt, "--uid")) uid = (uid_t)atol(val);
    else if (!strcmp(opt, "--gid")) gid = (gid_t)atol(val);
    else if (!strcmp(opt, "--status-fd")) status_fd = atoi(val);
    else if (!strcmp(opt, "--rlimit") && n_rlimits < 16) {
      char name[32]; long long value;
      if (sscanf(val, "%31[a-z]=%lld", name, &value) != 2) { errno = EINVAL; die("bad rlimit", val); }
      rlimits[n_rlimits].resource = rlimit_id(name);
      rlimits[n_rlimits++].value = value < 0 ? RLIM_INFINITY : (rlim_t)value;
    } else { errno = EINVAL; die("unknown option", opt); }
  }
  if (i + 1 >= argc) { errno = EINVAL; die("usage", "sluice-launcher [options] -- ARGV..."); }
  char **job_argv = argv + i + 1;
  if (status_fd >= 0 && fcntl(status_fd, F_SETFD, FD_CLOEXEC) < 0) die("status fd", NULL);

  char pid_text[32];
  snprintf(pid_text, sizeof pid_text, "%d\n", getpid());
  for (int c = 0; c < n_cgroups; c++) write_file(cgroup_procs[c], pid_text);

  int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
  if (strcmp(net, "host")) flags |= CLONE_NEWNET;
  if (unshare(flags) < 0) die("unshare namespaces", NULL);

  pid_t init = fork();
  if (init < 0) die("fork", NULL);
  if (init > 0) {  /* outside the namespace: wait for pid 1 and pass its exit code on */
    int status;
    if (status_fd >= 0) close(status_fd);
    while (waitpid(init, &status, 0) < 0) if (errno != EINTR) die("wait", NULL);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  /* If the launcher dies, so does pid 1 and with it the namespace. (A launcher that dies before
   * this line is covered by the cgroup: pid 1 joined it with the launcher, before the fork.) */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die("pdeathsig", NULL);
  build_view();
  if (!strcmp(net, "loopback")) loopback_up();
  if (sethostname(hostname, strlen(hostname)) < 0) die("sethostname", NULL);
  pid_t job = fork();
  if (job < 0) die("fork job", NULL);
  if (job == 0) exec_job(job_argv);
  return run_init(job);
}
