#!/usr/bin/env python3
"""Summarise a JFR recording's execution samples: share by thread, by top frame and by frame anywhere in the stack.

    jfr print --events jdk.ExecutionSample --stack-depth 64 rec.jfr | python3 bench/jfr-top.py [THREAD-SUBSTRING]

A recording of the gateway under load (see BENCHMARKS.md):
    JAVA_OPTS="-XX:StartFlightRecording=settings=profile,filename=/tmp/biogate.jfr" TARGETS=biogate bench/run.sh
"""
import collections
import re
import sys

only = sys.argv[1] if len(sys.argv) > 1 else None
threads, tops, anywhere = collections.Counter(), collections.Counter(), collections.Counter()
n = 0
thread, frames = None, []


def flush():
    global n, thread, frames
    if thread is not None and frames and (only is None or only in thread):
        n += 1
        threads[thread] += 1
        tops[frames[0]] += 1
        for f in set(frames):
            anywhere[f] += 1
    thread, frames = None, []


for line in sys.stdin:
    s = line.strip()
    m = re.match(r'sampledThread = "([^"]+)"', s)
    if m:
        flush()
        thread = re.sub(r'\d+$', 'N', m.group(1))
        continue
    if thread is not None and '(' in s and not s.startswith(('startTime', 'state', 'stackTrace')):
        frames.append(re.sub(r'\(.*', '', s))
    elif s == '}':
        flush()
flush()
if n == 0:
    sys.exit("no execution samples")
print(f"{n} samples")
for title, counter, k in (("by thread", threads, 10), ("top frame", tops, 25), ("anywhere in the stack", anywhere, 40)):
    print(f"-- {title}")
    for name, c in counter.most_common(k):
        print(f"{c:6d} {100.0 * c / n:5.1f}%  {name}")
