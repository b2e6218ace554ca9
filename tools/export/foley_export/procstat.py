"""A process's memory figures from Linux's /proc/PID/status."""


def status_kib(field, pid="self"):
    """``field`` (VmRSS: resident now, VmHWM: the peak so far, ...) of process ``pid`` in KiB; None
    where the process or the field is not there (not Linux, or the process has ended)."""
    try:
        with open("/proc/%s/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None
