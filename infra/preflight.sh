# shellcheck shell=bash
# The prerequisites of every ./mkt command, checked in one place before anything starts (no build, no npm, no JVM,
# no stack process): sourced by ./mkt, which .ci/run calls. What can be installed is installed (root + apt-get:
# Debian's packages, `apt-get update` once on a miss; npm's pinned tooling); what cannot stops the command at once
# with one line naming the one command that fixes it.
#
#   preflight NEED...   NEED: jdk node npm data chromium postgres torch
#
# Settings (tests and unusual machines): FEDMARKET_FASHION_MNIST_DIR (where the data set is; default Debian's folder),
# CHROMIUM (the browser the report test drives; default /usr/bin/chromium), MKT_APT_GET (the apt-get to use; "none":
# act as if the machine had none), MKT_JDK_DIRS (where to look for a JDK).

PREFLIGHT_FMNIST_DEFAULT=/usr/share/datasets/fashion-mnist

pf_say() { echo "mkt: $*" >&2; }
pf_die() { echo "mkt: $*" >&2; exit 2; }

pf_apt_get() { # prints the apt-get to use, or nothing
  local a="${MKT_APT_GET:-}"
  if [ "$a" = none ]; then return 0; fi
  if [ -n "$a" ]; then echo "$a"; return 0; fi
  command -v apt-get 2>/dev/null || true
}

pf_fmnist_dir() { echo "${FEDMARKET_FASHION_MNIST_DIR:-$PREFLIGHT_FMNIST_DEFAULT}"; }
pf_have_fmnist() { [ -f "$(pf_fmnist_dir)/train-images-idx3-ubyte.gz" ] && [ -f "$(pf_fmnist_dir)/t10k-labels-idx1-ubyte.gz" ]; }
pf_chromium() { echo "${CHROMIUM:-/usr/bin/chromium}"; }
# python3-torch writes the TorchScript models (infra/models/make_torchscript.py): Debian's python3, not a virtualenv's
pf_python() { echo "${MKT_PYTHON:-/usr/bin/python3}"; }
pf_have_torch() { [ -x "$(pf_python)" ] && "$(pf_python)" -c 'import torch' >/dev/null 2>&1; }

pf_java_major() { # prints the major version of the java binary $1, or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -1
}

pf_find_jdk() {
  local cand v
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
    v="$(pf_java_major "$JAVA_HOME/bin/java")"
    if [ -n "$v" ] && [ "$v" -ge 21 ]; then echo "$JAVA_HOME"; return 0; fi
  fi
  for cand in ${MKT_JDK_DIRS:-/usr/lib/jvm/*}; do
    [ -x "$cand/bin/javac" ] || continue
    v="$(pf_java_major "$cand/bin/java")"
    if [ -n "$v" ] && [ "$v" -ge 21 ]; then echo "$cand"; return 0; fi
  done
  return 1
}

pf_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  local nv; nv="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" || return 1
  [ -n "$nv" ] && [ "$nv" -ge 18 ] && command -v npm >/dev/null 2>&1
}

# Installs Debian packages $@ ("why" lines are printed by the caller). apt-get install first (the package lists may be
# fresh enough); on a miss, apt-get update once and again. Dies with the command to run when it cannot.
pf_apt_install() {
  local apt; apt="$(pf_apt_get)"
  local cmd="apt-get install -y $*"
  if [ -z "$apt" ]; then
    pf_die "missing: $PF_WHAT. This machine has no apt-get: install the Debian/Ubuntu package(s) $* (on Debian: sudo $cmd), or see README.md (Requirements)"
  fi
  if [ "$(id -u)" != 0 ]; then
    pf_die "missing: $PF_WHAT. Install with: sudo $cmd"
  fi
  local log="${TMPDIR:-/tmp}/mkt-apt-$$.log"
  pf_say "installing $* (apt-get, as root; log: $log) …"
  local t0=$SECONDS
  if ! DEBIAN_FRONTEND=noninteractive "$apt" install -y "$@" >"$log" 2>&1; then
    pf_say "  not in the package lists yet: apt-get update …"
    if ! DEBIAN_FRONTEND=noninteractive "$apt" update >>"$log" 2>&1 \
        || ! DEBIAN_FRONTEND=noninteractive "$apt" install -y "$@" >>"$log" 2>&1; then
      pf_die "could not install $* (see $log): run $cmd yourself and try again"
    fi
  fi
  pf_say "  installed $* in $((SECONDS - t0)) s"
  rm -f "$log"
}

preflight() {
  local need pkgs=() what=()
  for need in "$@"; do
    case "$need" in
      jdk)
        local jdk
        jdk="$(pf_find_jdk)" || pf_die "no JDK 21 or newer found (JAVA_HOME=${JAVA_HOME:-unset}, searched ${MKT_JDK_DIRS:-/usr/lib/jvm/*}): install one (e.g. Temurin 21+ or apt-get install -y openjdk-21-jdk where your release has it) or set JAVA_HOME to it"
        export JAVA_HOME="$jdk"
        export PATH="$JAVA_HOME/bin:$PATH"
        ;;
      node)
        if ! pf_node_ok; then pkgs+=(nodejs npm); what+=("Node.js 18+ and npm (anvil, forge, solc-js, the Terraform checks)"); fi ;;
      data)
        if ! pf_have_fmnist; then pkgs+=(dataset-fashion-mnist); what+=("Fashion-MNIST in $(pf_fmnist_dir) (the demo, the benchmarks and the training tests)"); fi ;;
      chromium)
        if [ ! -x "$(pf_chromium)" ]; then pkgs+=(chromium); what+=("Chromium at $(pf_chromium) (the report test renders report.html headless)"); fi ;;
      torch)
        if ! pf_have_torch; then pkgs+=(python3-torch); what+=("PyTorch for $(pf_python) (infra/models/make_torchscript.py writes the TorchScript models of the demo and the benchmark)"); fi ;;
      npm|postgres) ;;
      *) pf_die "preflight: unknown need '$need'" ;;
    esac
  done
  if [ "${#pkgs[@]}" -gt 0 ]; then
    PF_WHAT="$(IFS=';'; echo "${what[*]}" | sed 's/;/; /g')"
    pf_apt_install "${pkgs[@]}"
    # what the packages were meant to bring must now be there (a package of another name, a folder elsewhere)
    if printf '%s\n' "${pkgs[@]}" | grep -qx dataset-fashion-mnist && ! pf_have_fmnist; then
      pf_die "dataset-fashion-mnist is installed but $(pf_fmnist_dir) has no IDX files: set FEDMARKET_FASHION_MNIST_DIR to the folder that has them"
    fi
    if printf '%s\n' "${pkgs[@]}" | grep -qx chromium && [ ! -x "$(pf_chromium)" ]; then
      pf_die "chromium is installed but $(pf_chromium) is not there: set CHROMIUM to the browser's path"
    fi
    if printf '%s\n' "${pkgs[@]}" | grep -qx python3-torch && ! pf_have_torch; then
      pf_die "python3-torch is installed but $(pf_python) cannot import torch: set MKT_PYTHON to the python3 that has it"
    fi
    if printf '%s\n' "${pkgs[@]}" | grep -qx nodejs && ! pf_node_ok; then
      pf_die "the installed Node.js is older than 18: install Node.js 18+ (e.g. from your distribution's newer release) and try again"
    fi
  fi
  for need in "$@"; do
    case "$need" in
      npm) pf_npm ;;
      postgres) pf_postgres ;;
    esac
  done
}

# The pinned npm tooling (anvil, forge, solc-js, OpenZeppelin, hcl2json) from package-lock.json.
pf_npm() {
  local root="${MKT_ROOT:?}"
  if [ ! -x "$root/node_modules/.bin/anvil" ] || [ "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]; then
    pf_say "installing the pinned npm tooling (npm ci) …"
    (cd "$root" && npm ci --no-audit --no-fund --loglevel=error) >&2 || pf_die "npm ci failed: see the output above (the npm registry must be reachable once)"
  fi
}

# The machine's PostgreSQL when it has one that is stopped (else the stack starts an embedded one: nothing to install).
pf_postgres() {
  [ -n "${DATABASE_URL:-}" ] && return 0
  command -v pg_isready >/dev/null 2>&1 || return 0
  pg_isready -h 127.0.0.1 -p "${PGPORT:-5432}" -q 2>/dev/null && return 0
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] && [ "$(id -u)" = 0 ]; then
    pf_say "the machine's PostgreSQL is down: starting it (pg_ctlcluster)"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >&2 \
      || pf_say "  could not start it; the stack will use an embedded PostgreSQL"
  fi
}

# ------------------------------------------------------------------ the console
# DJL's and PyTorch's own warnings ("Failed to detect GPU count", "AutoNonVariableTypeMode is deprecated" …) are the
# engine's, not the project's: they go to $MKT_HOME/logs/engine.log, everything else on stderr stays on the console
ENGINE_NOISE='^\[W[0-9]{4} [0-9:.]+ [^]]*\] Warning: |^\[[^]]*\] (WARN|INFO) ai\.djl\.|^(WARNING|Warning): .*(CUDA|cuda|libtorch|PyTorch)'
engine_filter() { # $1: the log file; stdin: a JVM's stderr
  local line
  while IFS= read -r line || [ -n "$line" ]; do
    if [[ "$line" =~ $ENGINE_NOISE ]]; then printf '%s\n' "$line" >>"$1"; else printf '%s\n' "$line" >&2; fi
  done
}

