#!/usr/bin/env bash
# Installs sglang-ci from this checkout under a prefix (docs/operations.md "Installing"):
#
#   ./install.sh [--prefix DIR] [--from DIR] [--shims | --shims-dir DIR [--force]]
#
#   PREFIX/bin/sglang-ci                 the static release: every program in one executable
#   PREFIX/bin/<program>                 a symbolic link to sglang-ci per program (perf-nightly, ...)
#   PREFIX/cron/crontab_rules_*.txt      the crontabs, SGLCI_BIN set to PREFIX/bin
#   PREFIX/share/doc/sglang-ci/          README.md and every page of docs/
#   PREFIX/scripts/perf_nightly.sh, ...  with --shims: the original scripts' paths (below)
#
# Options:
#   --prefix DIR     where to install (default /opt/sglang-ci)
#   --from DIR       take the sglang-ci executable from DIR instead of building it
#                    (default: build it: cargo build --profile dist, static, see below)
#   --shims          also install shims at the original scripts' paths under PREFIX
#   --shims-dir DIR  install the shims under DIR instead, e.g. the shell toolkit's working tree
#                    ($SGL_BENCHMARK_CI_DIR), so its crontab runs the binaries unchanged
#   --force          with --shims-dir: replace original scripts there, keeping each as <file>.orig
#   --build-only     build the static release and print its folder; install nothing (.ci/run)
#   -h, --help       this text
#
# The build: RUSTFLAGS='-C target-feature=+crt-static' cargo build --profile dist
#   --target x86_64-unknown-linux-gnu -p sglang-ci --features multicall --bin sglang-ci
# (statically linked glibc: no shared library, no loader, runs on any x86-64 Linux kernel >= 3.2,
# Ubuntu 20.04 and RHEL 8 included). The explicit --target keeps RUSTFLAGS off build scripts.
# Nothing is read from the checkout at run time: the installed tree is self-contained.
#
# Exit codes: 0 installed; 1 a step failed (the message names it); 2 bad arguments.
set -euo pipefail

TARGET=x86_64-unknown-linux-gnu
PROFILE=dist
prefix=/opt/sglang-ci
from=""
shims_dir=""
force=0
build_only=0

die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }
usage_error() { printf 'install.sh: error: %s (see --help)\n' "$*" >&2; exit 2; }
say() { printf 'install.sh: %s\n' "$*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || usage_error "--prefix needs a folder"; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#*=}; shift ;;
    --from) [ $# -ge 2 ] || usage_error "--from needs a folder"; from=$2; shift 2 ;;
    --from=*) from=${1#*=}; shift ;;
    --shims) shims_dir=PREFIX; shift ;;
    --shims-dir) [ $# -ge 2 ] || usage_error "--shims-dir needs a folder"; shims_dir=$2; shift 2 ;;
    --shims-dir=*) shims_dir=${1#*=}; shift ;;
    --force) force=1; shift ;;
    --build-only) build_only=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
done
[ -n "$prefix" ] || usage_error "--prefix is empty"
case "$prefix" in /*) ;; *) prefix="$(pwd)/$prefix" ;; esac
case "$prefix" in *"'"*|*$'\n'*) usage_error "--prefix must not contain a quote or a newline" ;; esac
[ "$shims_dir" = PREFIX ] && shims_dir=$prefix

checkout=$(cd "$(dirname "$0")" && pwd)

# 1. The executable.
if [ -z "$from" ]; then
  command -v cargo >/dev/null || die "cargo not found (install Rust, or pass --from DIR with a built sglang-ci)"
  say "building the static release (cargo build --profile $PROFILE --target $TARGET; a clean build takes minutes)"
  (cd "$checkout" && RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-C target-feature=+crt-static" \
    cargo build --profile "$PROFILE" --target "$TARGET" -p sglang-ci --features multicall --bin sglang-ci) \
    || die "cargo build of the static release failed"
  from=$checkout/target/$TARGET/$PROFILE
fi
exe=$from/sglang-ci
if [ "$build_only" = 1 ]; then
  [ -x "$exe" ] || die "$exe was not built"
  printf '%s\n' "$from"
  exit 0
fi
[ -f "$exe" ] && [ -x "$exe" ] || die "$exe: no sglang-ci executable there (build it, or drop --from)"
programs=$("$exe" --list) || die "$exe --list failed: not a sglang-ci multicall executable?"
[ -n "$programs" ] || die "$exe --list named no program"

# Shims: the original scripts' paths, each exec'ing its program with the same arguments.
# A shim is only installed for a program this release has.
SHIMS="
scripts/perf_nightly.sh perf-nightly
scripts/grok_perf_online_csv.sh grok-perf-online
scripts/grok_perf_offline_csv.sh grok-perf-offline
scripts/deepseek_perf_online_csv.sh deepseek-perf-online
scripts/deepseek_perf_offline_csv.sh deepseek-perf-offline
scripts/run_grok_benchmark.sh run-grok-benchmark
scripts/download_models.sh download-models
scripts/nightly_image_check.sh nightly-image-check
scripts/process_and_generate_online_plots.py process-online-plots
scripts/process_and_generate_offline_plots.py process-offline-plots
scripts/test_nightly.sh test-nightly
server/plots_server.sh plots-server
test/test_nightly.sh test-nightly
test/pd/run_pd_docker.sh run-pd-docker
test/sanity_check.py sanity-check
team_alert/send_teams_notification.py send-teams-notification
team_alert/send_docker_image_alert.py send-docker-image-alert
team_alert/send_test_nightly_alert.py send-test-nightly-alert
team_alert/send_daily_summary_alert.py send-daily-summary-alert
upstream_ci/compare_csv_results.py compare-csv
upstream_ci/compare_suites.py compare-suites
upstream_ci/build_sglang_docker.sh build-sglang-docker
cron/github_log_upload.sh github-log-upload
"
MARK="# sglang-ci shim:"
if [ -n "$shims_dir" ]; then # checked before anything is installed
  case "$shims_dir" in /*) ;; *) shims_dir="$(pwd)/$shims_dir" ;; esac
  while read -r orig prog; do
    dest=$shims_dir/$orig
    [ -n "$orig" ] && [ "$force" = 0 ] && [ -e "$dest" ] && ! grep -qF "$MARK" "$dest" 2>/dev/null &&
      die "$dest exists and is not a sglang-ci shim (pass --force to replace it, keeping it as $dest.orig)"
  done <<<"$SHIMS"
fi

# 2. bin/: the executable (replaced by rename, so a running job keeps its old file) and a link
# per program; links to sglang-ci for programs this release no longer has are removed.
install -d "$prefix/bin" || die "cannot create $prefix/bin"
install -m 755 "$exe" "$prefix/bin/.sglang-ci.new" || die "cannot copy $exe to $prefix/bin"
mv -f "$prefix/bin/.sglang-ci.new" "$prefix/bin/sglang-ci" || die "cannot replace $prefix/bin/sglang-ci"
for link in "$prefix"/bin/*; do
  [ -L "$link" ] && [ "$(readlink "$link")" = sglang-ci ] || continue
  grep -qxF "$(basename "$link")" <<<"$programs" || rm -f "$link"
done
while IFS= read -r p; do
  ln -sfn sglang-ci "$prefix/bin/$p" || die "cannot link $prefix/bin/$p"
done <<<"$programs"
say "installed $prefix/bin/sglang-ci and $(wc -l <<<"$programs") program links ($("$prefix/bin/sglang-ci" --version))"

# 3. cron/ (SGLCI_BIN pointing at this prefix) and the documentation.
install -d "$prefix/cron" "$prefix/share/doc/sglang-ci"
for f in "$checkout"/cron/crontab_rules_*.txt; do
  sed "s|^SGLCI_BIN=.*|SGLCI_BIN=$prefix/bin|" "$f" >"$prefix/cron/$(basename "$f")"
done
install -m 644 "$checkout/README.md" "$checkout"/docs/*.md "$prefix/share/doc/sglang-ci/"
say "installed $prefix/cron and $prefix/share/doc/sglang-ci"

# 4. Shims (table and checks above).
write_shim() { # <original path> <program> <file>
  local bin="$prefix/bin/$2"
  case "$1" in
    *.py) cat <<EOF
#!/usr/bin/env python3
$MARK $1 runs $bin (the Rust port of $1),
# passing its arguments unchanged. Installed by sglang-ci's install.sh; remove it to go back.
import os, sys
if os.environ.get("SGLCI_SHIM_VERBOSE"):
    print("$1: exec $bin", *sys.argv[1:], file=sys.stderr)
os.execv('$bin', ['$bin'] + sys.argv[1:])
EOF
    ;;
    *) cat <<EOF
#!/bin/sh
$MARK $1 runs $bin (the Rust port of $1),
# passing its arguments unchanged. Installed by sglang-ci's install.sh; remove it to go back.
[ -n "\${SGLCI_SHIM_VERBOSE:-}" ] && echo "$1: exec $bin \$*" >&2
exec '$bin' "\$@"
EOF
    ;;
  esac
}
if [ -n "$shims_dir" ]; then
  n=0
  while read -r orig prog; do
    [ -n "$orig" ] || continue
    if ! grep -qxF "$prog" <<<"$programs"; then
      say "shim $orig skipped: this release has no $prog yet"
      continue
    fi
    dest=$shims_dir/$orig
    if [ -e "$dest" ] && ! grep -qF "$MARK" "$dest" 2>/dev/null; then
      [ -e "$dest.orig" ] || cp -p "$dest" "$dest.orig" || die "cannot keep $dest as $dest.orig"
      say "kept the original $dest as $dest.orig"
    fi
    install -d "$(dirname "$dest")"
    write_shim "$orig" "$prog" >"$dest.sglci-new" && chmod 755 "$dest.sglci-new" && mv -f "$dest.sglci-new" "$dest" \
      || die "cannot write the shim $dest"
    n=$((n + 1))
  done <<<"$SHIMS"
  say "installed $n shims under $shims_dir"
fi
say "done: $prefix ($(du -sh "$prefix" | cut -f1))"
