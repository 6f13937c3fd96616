#!/usr/bin/env python3
"""Helpers of scripts/bench-worker (standard library only).

  bench_worker.py prefill DB N SIM_URL            writes N emitted entries into a new SQLite idempotency store
  bench_worker.py rows DB PREFILLED               prints how many entries the store holds
  bench_worker.py rss PID INTERVAL OUT            appends "seconds rss_kib" lines every INTERVAL s until PID ends
  bench_worker.py collect BROKERS TOPIC COUNT OUT STALL_S
                                                  reads TOPIC (read_committed) until COUNT distinct keys, writes
                                                  "key TAB timestamp_ms" lines; fails after STALL_S without a new key
  bench_worker.py metrics PID INTERVAL OUT        appends a line of the worker's metrics (see METRICS) every INTERVAL s
                                                  until PID ends, from the port it listens on
  bench_worker.py report INPUTS OUTPUTS STARTED_MS WINDOW RATE CPU RSS [METRICS]
                                                  prints the run's figures (see scripts/bench-worker)
"""
import json
import os
import random
import re
import selectors
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request

# --- prefill ----------------------------------------------------------------------------------------------------

# Schema version 2 of Sources/IdempotencyStore/SQLite/SQLiteIdempotencyStore.swift (createTable, createRetentionIndex).
SCHEMA_VERSION = 2
CREATE_TABLE = """
CREATE TABLE risk_idempotency (
    external_id TEXT NOT NULL UNIQUE,
    phone_risk BLOB,
    number_scoring BLOB,
    partial INTEGER NOT NULL DEFAULT 0,
    emitted INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
)
"""
CREATE_INDEX = "CREATE INDEX risk_idempotency_updated_at ON risk_idempotency (updated_at)"
WEEK_MS = 7 * 24 * 3600 * 1000
# Rows are spread over the week before now, but kept 10 minutes inside the worker's default 7-day retention, so the
# purge the worker runs at its start finds nothing to delete (a one-off purge would distort the run).
MARGIN_MS = 10 * 60 * 1000
TEMPLATES = 8


def post(url, headers, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **headers})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def templates(sim_url):
    """Answers of the simulator for a few numbers: the stored shapes are its phone-risk `data` and number-scoring record."""
    result = []
    for k in range(TEMPLATES):
        number = f"+4367{k:09d}"
        risk = post(f"{sim_url}/phone-service/phoneRiskScore", {"Authorization": "Bearer sandbox-token"},
                    {"phoneNumber": number, "accountLifecycleEvent": "create", "externalId": f"prefill-template-{k}"})
        scoring = post(f"{sim_url}/lookup/number-scoring", {"X-API-KEY": "sandbox-key"}, {"msisdn": [number[1:]]})
        if not risk.get("status") or len(scoring) != 1 or scoring[0].get("response") != 0:
            raise SystemExit(f"prefill: the simulator did not score {number}: {risk} {scoring}")
        result.append((risk["data"], scoring[0]))
    return result


def with_number(risk, scoring, external_id, number, rng):
    """The template's JSON bytes with this row's externalId, number and reference id (member order kept)."""
    national = number[3:]
    risk = json.loads(json.dumps(risk))
    risk["externalId"] = external_id
    risk["referenceId"] = "%032X" % rng.getrandbits(128)
    numbering = risk.get("numbering", {})
    if "original" in numbering:
        numbering["original"]["completePhoneNumber"] = number
        numbering["original"]["phoneNumber"] = national
    for channel in numbering.get("cleansing", {}).values():
        channel["phoneNumber"] = national
    scoring = dict(scoring, msisdn=number[1:])
    return (json.dumps(risk, separators=(",", ":")).encode(), json.dumps(scoring, separators=(",", ":")).encode())


def prefill(db, count, sim_url):
    count = int(count)
    started = time.monotonic()
    shapes = templates(sim_url)
    rng = random.Random(13)
    now_ms = int(time.time() * 1000)
    first_ms = now_ms - WEEK_MS + MARGIN_MS
    span = now_ms - first_ms
    connection = sqlite3.connect(db, isolation_level=None)
    # One bulk transaction without a journal and with a large cache: in WAL mode the index pages spilled from a
    # small cache were appended again and again (a 9 GB WAL, unfinished, on the way to 3,000,000 rows). The file
    # is switched to WAL after.
    connection.execute("PRAGMA journal_mode = OFF")
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("PRAGMA cache_size = -524288")
    connection.execute("BEGIN IMMEDIATE")
    connection.execute(CREATE_TABLE)
    connection.execute(CREATE_INDEX)

    def rows():
        for i in range(count):
            risk, scoring = shapes[i % TEMPLATES]
            # externalIds "prefill-N" never meet the run's "bench-N"; numbers +4367... never meet its +4366....
            risk_json, scoring_json = with_number(risk, scoring, f"prefill-{i}", f"+4367{i:09d}", rng)
            # In write order, as the store keeps them: times ascend through the week.
            yield (f"prefill-{i}", risk_json, scoring_json, first_ms + span * i // max(1, count))

    connection.executemany(
        "INSERT INTO risk_idempotency (external_id, phone_risk, number_scoring, partial, emitted, updated_at) "
        "VALUES (?, ?, ?, 0, 1, ?)", rows())
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    connection.execute("COMMIT")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.close()
    size = os.path.getsize(db)
    print(f"prefilled store: {count:,} rows (emitted, spread over the past week), {size / 1e6:.0f} MB, "
          f"in {time.monotonic() - started:.1f} s")


def rows(db, prefilled):
    count = sqlite3.connect(db).execute("SELECT count(*) FROM risk_idempotency").fetchone()[0]
    print(f"idempotency store at the end: {count:,} rows ({int(prefilled):,} prefilled)")


# --- rss --------------------------------------------------------------------------------------------------------

def sampling(interval):
    """Seconds since the start, on a fixed schedule every INTERVAL s (a sampling interval, not a synchronisation)."""
    interval = float(interval)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    start, n = time.monotonic(), 0
    while True:
        yield time.monotonic() - start
        n += 1
        time.sleep(max(0.0, start + n * interval - time.monotonic()))


def rss(pid, interval, out):
    with open(out, "a", buffering=1) as file:
        for seconds in sampling(interval):
            try:
                with open(f"/proc/{pid}/status") as status:
                    kib = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
            except (OSError, StopIteration):
                return
            file.write(f"{seconds:.1f} {kib}\n")


# --- metrics ----------------------------------------------------------------------------------------------------

# The stages of a record's time in the worker (risk_event_stage_duration_seconds).
STAGES = ("waiting", "claiming", "scoring", "emitting")
# The providers timed in risk_provider_request_duration_seconds.
PROVIDERS = ("phone-risk", "number-scoring")

# The samples of the worker's /metrics kept each interval: name as exposed (labels summed over), column name.
METRICS = [
    ("risk_in_flight", "in_flight"),
    ("risk_records_consumed_total", "consumed"),
    ("risk_events_scored_total", "scored"),
    ('risk_transactions_total{result="committed"}', "transactions"),
    ("risk_consumer_lag", "lag"),
    ("risk_paused", "paused"),
    ("risk_emit_cycle_duration_seconds_sum", "cycle_seconds"),
    ("risk_emit_cycle_duration_seconds_count", "cycles"),
] + [
    (f'risk_event_stage_duration_seconds_{part}{{stage="{stage}"}}', f"{stage}_{part}")
    for stage in STAGES for part in ("sum", "count")
] + [
    (f'risk_provider_request_duration_seconds_{part}{{provider="{provider}"}}', f"{provider}_{part}")
    for provider in PROVIDERS for part in ("sum", "count")
]


def listening_port(pid):
    """The TCP port PID listens on (its metrics port), from ss; None until it listens."""
    try:
        text = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    for line in text.splitlines():
        if f"pid={pid}," in line:
            return line.split()[3].rsplit(":", 1)[1]
    return None


def metric_sum(text, name):
    total, found = 0.0, False
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        if key == name or (("{" not in name) and key.split("{", 1)[0] == name):
            total += float(value)
            found = True
    return total if found else 0.0


def metrics(pid, interval, out):
    port = None
    with open(out, "a", buffering=1) as file:
        file.write("seconds " + " ".join(column for _, column in METRICS) + "\n")
        for seconds in sampling(interval):
            if not os.path.exists(f"/proc/{pid}"):
                return
            port = port or listening_port(pid)
            if not port:
                continue
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
                    text = response.read().decode()
            except OSError:
                continue
            file.write(f"{seconds:.1f} " + " ".join(f"{metric_sum(text, name):g}" for name, _ in METRICS) + "\n")


# --- collect ----------------------------------------------------------------------------------------------------

def collect(brokers, topic, count, out, stall):
    count, stall = int(count), float(stall)
    kcat = subprocess.Popen(
        ["kcat", "-C", "-q", "-u", "-b", brokers, "-t", topic, "-o", "beginning", "-X", "isolation.level=read_committed",
         "-f", "%k\t%T\n"], stdout=subprocess.PIPE)
    timestamps = {}
    selector = selectors.DefaultSelector()
    selector.register(kcat.stdout, selectors.EVENT_READ)
    pending = b""
    last_progress = time.monotonic()
    try:
        while len(timestamps) < count:
            if not selector.select(timeout=max(0.0, last_progress + stall - time.monotonic())):
                raise SystemExit(f"collect: {len(timestamps):,} of {count:,} outputs, none new for {stall:.0f} s")
            chunk = os.read(kcat.stdout.fileno(), 1 << 16)
            if not chunk:
                raise SystemExit(f"collect: kcat ended after {len(timestamps):,} of {count:,} outputs")
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            before = len(timestamps)
            for line in lines:
                key, _, stamp = line.partition(b"\t")
                if stamp.strip().isdigit():
                    # The last record of a key seen twice (Tansu hands aborted records to read_committed readers).
                    timestamps[key.decode()] = int(stamp)
            if len(timestamps) > before:
                last_progress = time.monotonic()
    finally:
        kcat.terminate()
        kcat.wait()
    with open(out, "w") as file:
        for key, stamp in timestamps.items():
            file.write(f"{key}\t{stamp}\n")


# --- report -----------------------------------------------------------------------------------------------------

def read_timestamps(path):
    result = {}
    with open(path) as file:
        for line in file:
            key, _, stamp = line.rstrip("\n").partition("\t")
            if stamp.isdigit():
                result[key] = int(stamp)
    return result


def percentile(sorted_values, p):
    """As kafka-bench latency does: the value at index n * p of the sorted values."""
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))] if sorted_values else 0


def figures(values):
    values = sorted(values)
    return {name: percentile(values, p) for name, p in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))} | {"max": values[-1] if values else 0}


def seconds(ms):
    return f"{ms / 1000:.2f} s" if ms >= 10_000 else f"{ms} ms"


def order(key):
    match = re.fullmatch(r"bench-(\d+)", key)
    return int(match.group(1)) if match else sys.maxsize


def report(inputs_path, outputs_path, started_ms, window, rate, cpu_path, rss_path, metrics_path=""):
    inputs, outputs = read_timestamps(inputs_path), read_timestamps(outputs_path)
    started_ms, window = int(started_ms), int(window)
    paced = bool(rate)
    matched = sorted((key for key in outputs if key in inputs), key=lambda key: (order(key), inputs[key], key))
    latencies = [outputs[key] - inputs[key] for key in matched]
    last = max(outputs.values()) if outputs else started_ms
    elapsed = max(last - started_ms, 1) / 1000
    events = len(outputs)
    whole = figures(latencies)
    label = "end to end" if paced else "end to end (backlog: queueing, grows through the run)"
    print(f"{events:,} outputs ({len(matched):,} matched to inputs), {events / elapsed:,.0f} events/s overall "
          f"({elapsed:.1f} s from start to last output)")
    headline = f"{label}: p50 {seconds(whole['p50'])}, p95 {seconds(whole['p95'])}, p99 {seconds(whole['p99'])}, max {seconds(whole['max'])}"
    print(f"** {headline} **" if paced else headline)

    print(f"per window of {window:,} events in input order:")
    print(f"  {'events':>17}  {'p50':>9}  {'p95':>9}  {'p99':>9}  {'max':>9}")
    for first in range(0, len(latencies), window):
        part = figures(latencies[first:first + window])
        span = f"{first:,}-{min(first + window, len(latencies)) - 1:,}"
        print(f"  {span:>17}  " + "  ".join(f"{seconds(part[name]):>9}" for name in ("p50", "p95", "p99", "max")))

    # CPU: "name pid ticks_before ticks_after wall_ms" lines.
    hertz = os.sysconf("SC_CLK_TCK")
    parts = []
    with open(cpu_path) as file:
        for line in file:
            name, pid, before, after, wall_ms = line.split()
            cpu_s = (int(after) - int(before)) / hertz
            per_event = 1000 * cpu_s / max(events, 1)
            parts.append(f"{name} {per_event:.3f} ({cpu_s:.1f} s, {cpu_s / max(int(wall_ms) / 1000, 0.001):.2f} cores)")
    print("CPU per event, ms (CPU seconds, cores on average): " + ", ".join(parts))

    samples = []
    with open(rss_path) as file:
        for line in file:
            t, kib = line.split()
            samples.append((float(t), int(kib)))
    if samples:
        mb = [kib / 1024 for _, kib in samples]
        step = max(1, -(-len(samples) // 20))  # at most 20 figures
        series = " ".join(f"{mb[i]:.0f}" for i in range(0, len(samples), step))
        interval = samples[1][0] - samples[0][0] if len(samples) > 1 else 0
        print(f"worker RSS sampled every {interval:.1f} s ({len(samples)} samples): min {min(mb):.0f} MB, "
              f"peak {max(mb):.0f} MB; every {step * interval:.0f} s, MB: {series}")
    if metrics_path:
        report_metrics(metrics_path)


def report_metrics(path):
    """Per stretch of the run (at most 20): work in flight, consumer lag, pause, consumed/s, scored/s, events per
    transaction, the mean emit cycle and the mean time per stage; then the stages over the whole run."""
    with open(path) as file:
        lines = file.read().splitlines()
    if len(lines) < 3:
        return
    columns = lines[0].split()
    rows = [dict(zip(columns, map(float, line.split()))) for line in lines[1:]]
    # From the first sample with anything consumed to the last with anything new.
    busy = [row for row in rows if row["consumed"] > 0]
    if len(busy) < 2:
        return
    step = max(1, -(-len(busy) // 20))
    print(f"worker metrics every {step * (busy[1]['seconds'] - busy[0]['seconds']):.0f} s: "
          "seconds, in flight (mean / max), lag (max), paused (share of samples), consumed/s, scored/s, events per transaction, "
          "ms per emit cycle (produce and commit, mean), ms per event waiting / claiming / scoring / emitting (mean)")
    for first in range(0, len(busy) - 1, step):
        part = busy[first:first + step + 1]
        a, b = part[0], part[-1]
        elapsed = max(b["seconds"] - a["seconds"], 0.001)
        transactions = b["transactions"] - a["transactions"]
        scored = b["scored"] - a["scored"]
        consumed = b["consumed"] - a["consumed"]
        paused = sum(1 for row in part if row["paused"] > 0) / len(part)
        cycles = b["cycles"] - a["cycles"]
        cycle_ms = 1000 * (b["cycle_seconds"] - a["cycle_seconds"]) / cycles if cycles else 0
        in_flight = [row["in_flight"] for row in part]
        print(f"  {a['seconds']:6.0f}  {sum(in_flight) / len(in_flight):7.0f} / {max(in_flight):4.0f}"
              f"  {max(row['lag'] for row in part):7.0f}  {paused:5.0%}  {consumed / elapsed:7.0f}  {scored / elapsed:7.0f}"
              f"  {scored / transactions if transactions else 0:7.1f}  {cycle_ms:7.1f}"
              f"  {' / '.join(f'{stage_ms(a, b, stage):.1f}' for stage in STAGES)}")
    first, last = rows[0], rows[-1]
    print("mean time per event by stage (the worker's risk_event_stage_duration_seconds over the run): "
          + ", ".join(f"{stage} {stage_ms(first, last, stage):.1f} ms" for stage in STAGES)
          + "; of scoring, the provider calls (risk_provider_request_duration_seconds, mean; they run at once): "
          + ", ".join(f"{provider} {stage_ms(first, last, provider):.1f} ms" for provider in PROVIDERS))


def stage_ms(a, b, stage):
    """Mean milliseconds per record in STAGE (or per call of a provider) between samples A and B (0 when none)."""
    count = b[f"{stage}_count"] - a[f"{stage}_count"]
    return 1000 * (b[f"{stage}_sum"] - a[f"{stage}_sum"]) / count if count else 0.0


if __name__ == "__main__":
    commands = {"prefill": prefill, "rows": rows, "rss": rss, "metrics": metrics, "collect": collect, "report": report}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        raise SystemExit(__doc__)
    commands[sys.argv[1]](*sys.argv[2:])
