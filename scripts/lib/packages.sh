# Sourced by scripts/check-packages.sh and scripts/install-test.sh: where the two packages
# are, and how the server's systemd unit starts it (read from the unit itself, so that the
# checks follow the unit when it changes). Needs $work, a temporary directory of the caller's.
# Its functions set variables of the script that sources it (server_deb, unit_argv, …).
# shellcheck shell=bash disable=SC2034,SC2154

# packages_locate [DIR | --cpack BUILD_DIR]: sets server_deb and console_deb to the one
# gatehouse-server and the one gatehouse-console .deb in DIR (default build/packages), or
# packages BUILD_DIR's own binaries into $work/debs first (the CTest tests' way).
packages_locate() {
    local dir
    if [ "${1:-}" = "--cpack" ]; then
        local build="${2:?--cpack needs the build directory}"
        cmake --build "$build" --target package-files >/dev/null
        cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/debs" >/dev/null
        dir="$work/debs"
    else
        dir="${1:-build/packages}"
    fi
    local server_debs console_debs
    server_debs=("$dir"/gatehouse-server_*.deb)
    console_debs=("$dir"/gatehouse-console_*.deb)
    if [ ${#server_debs[@]} -ne 1 ] || [ ! -f "${server_debs[0]}" ] \
        || [ ${#console_debs[@]} -ne 1 ] || [ ! -f "${console_debs[0]}" ]; then
        echo "${0##*/}: expected one gatehouse-server and one gatehouse-console .deb in $dir" >&2
        exit 1
    fi
    server_deb="${server_debs[0]}"
    console_deb="${console_debs[0]}"
}

# unit_values KEY UNIT: the values of KEY= in the unit's [Service] section, one a line.
unit_values() {
    awk -v key="$1" '/^\[/ { service = ($0 == "[Service]") }
        service && index($0, key "=") == 1 { print substr($0, length(key) + 2) }' "$2"
}

# unit_command KEY UNIT: sets the array unit_argv to the command line of ExecStart= or
# ExecStartPre= (exactly one). Only what systemd would run as written: no prefix (- @ : + !),
# no quoting, no $VARIABLES, which this reading does not expand.
unit_command() {
    local lines
    lines="$(unit_values "$1" "$2")"
    if [ -z "$lines" ] || [ "$(wc -l <<<"$lines")" -ne 1 ]; then
        echo "${0##*/}: expected one $1= line in $2, found: ${lines:-none}" >&2
        exit 1
    fi
    if [[ "$lines" =~ ^[-@:+!] ]] || [[ "$lines" =~ [\"\'\$\\] ]]; then
        echo "${0##*/}: $1=$lines uses a prefix, quoting or a variable, which this script does not reproduce" >&2
        exit 1
    fi
    read -r -a unit_argv <<<"$lines"
}

# unit_environment UNIT: sets the array unit_env to the VAR=value words of its Environment=
# lines, in order (unquoted words only, as unit_command).
unit_environment() {
    local line words
    unit_env=()
    while IFS= read -r line; do
        if [[ "$line" =~ [\"\'\$\\] ]]; then
            echo "${0##*/}: Environment=$line uses quoting or a variable, which this script does not reproduce" >&2
            exit 1
        fi
        read -r -a words <<<"$line"
        unit_env+=("${words[@]}")
    done < <(unit_values Environment "$1")
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for_healthz PORT PID [SECONDS]: true once http://127.0.0.1:PORT/healthz answers 2xx;
# false when PID has exited or SECONDS (default 10) have passed.
wait_for_healthz() {
    local deadline=$((SECONDS + ${3:-10}))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if curl -fsS --max-time 2 "http://127.0.0.1:$1/healthz" >/dev/null 2>&1; then return 0; fi
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
