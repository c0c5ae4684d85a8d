#!/usr/bin/env python3
"""Runs jwtkit_bench and prints ops/s with the ratios against raw OpenSSL from the same run.

Usage: bench/run.py [path/to/jwtkit_bench] [--min-time SECONDS] [--filter REGEX] [--json OUT]
With JWTKIT_BENCH_REDIS_URL set (and a build with jwtkit::redis) the Redis rows run too.
"""
import argparse
import json
import os
import platform
import subprocess
import sys

ALGS = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512", "EdDSA"]
TARGETS = {  # issue targets: minimum jwtkit / raw ratio
    ("verify", "RS256"): 0.90, ("verify", "PS256"): 0.90, ("verify", "ES256"): 0.95,
    ("verify", "EdDSA"): 0.95, ("verify", "HS256"): 0.30,
    ("sign", "RS256"): 0.95, ("sign", "PS256"): 0.95, ("sign", "EdDSA"): 0.95,
    ("sign", "ES256"): 0.90, ("sign", "HS256"): 0.25,
}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def openssl_version():
    try:
        return subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", default="build/bench/bench/jwtkit_bench")
    ap.add_argument("--min-time", default="0.5")
    ap.add_argument("--filter", default="")
    ap.add_argument("--json", help="also save the raw Google Benchmark JSON here")
    args = ap.parse_args()

    cmd = [args.binary, "--benchmark_format=json", f"--benchmark_min_time={args.min_time}"]
    if args.filter:
        cmd.append(f"--benchmark_filter={args.filter}")
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        sys.exit(out.returncode)
    data = json.loads(out.stdout)
    if args.json:
        with open(args.json, "w") as f:
            f.write(out.stdout)

    rate = {}
    for b in data["benchmarks"]:
        if b.get("error_occurred"):
            print(f"error in {b['name']}: {b.get('error_message')}", file=sys.stderr)
            continue
        rate[b["name"]] = b.get("items_per_second", 0.0)

    def fmt(v):
        if v >= 1e6:
            return f"{v / 1e6:.2f}M"
        if v >= 1e3:
            return f"{v / 1e3:.1f}k"
        return f"{v:.0f}"

    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs; {openssl_version()}")
    print(f"command: {' '.join(cmd)}\n")
    misses = []
    for op in ("verify", "sign"):
        print(f"| {op}, ops/s | jwtkit | raw OpenSSL | ratio | target |")
        print("|---|---|---|---|---|")
        for alg in ALGS:
            j = rate.get(f"{op}/{alg}/jwtkit")
            r = rate.get(f"{op}/{alg}/openssl_raw")
            if not j or not r:
                continue
            target = TARGETS.get((op, alg))
            ratio = j / r
            mark = ""
            if target is not None:
                mark = f">= {target:.2f} " + ("met" if ratio >= target else "MISSED")
                if ratio < target:
                    misses.append(f"{op}/{alg}: {ratio:.2f} < {target:.2f}")
            print(f"| {alg} | {fmt(j)} | {fmt(r)} | {ratio:.2f}x | {mark} |")
        print()

    print("| engine verify_access, ops/s | no revocation check | memory store | ratio | redis store | ratio |")
    print("|---|---|---|---|---|---|")
    for alg in ("RS256", "ES256", "EdDSA"):
        base = rate.get(f"verify_engine/{alg}/no_revocation")
        mem = rate.get(f"verify_revocation/{alg}/memory")
        red = rate.get(f"verify_revocation/{alg}/redis")
        if not base or not mem:
            continue
        red_cols = f"{fmt(red)} | {red / base:.2f}x" if red else "not run | "
        if mem / base < 0.90:
            misses.append(f"verify_revocation/{alg}/memory: {mem / base:.2f} < 0.90")
        print(f"| {alg} | {fmt(base)} | {fmt(mem)} | {mem / base:.2f}x | {red_cols} |")
    print()

    print("| two threads, one shared verifier | 1 thread | 2 threads | scaling | target |")
    print("|---|---|---|---|---|")
    stems = [f"verify_threads/{alg}/{who}" for alg in ALGS for who in ("jwtkit", "openssl_raw")]
    stems += [f"verify_revocation_threads/{alg}/memory" for alg in ALGS]
    for stem in stems:
        one = rate.get(f"{stem}/real_time/threads:1")
        two = rate.get(f"{stem}/real_time/threads:2")
        if not one or not two:
            continue
        target = ""
        if not stem.endswith("openssl_raw"):  # raw rows show what the machine allows
            target = ">= 1.80 " + ("met" if two / one >= 1.8 else "MISSED")
            if two / one < 1.8:
                misses.append(f"{stem}: {two / one:.2f} < 1.80")
        print(f"| {stem} | {fmt(one)} | {fmt(two)} | {two / one:.2f}x | {target} |")
    print()
    if misses:
        print("targets missed: " + "; ".join(misses))
    else:
        print("all targets met")


if __name__ == "__main__":
    main()
