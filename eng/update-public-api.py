#!/usr/bin/env python3
"""Rewrites DbCore.Runtime/PublicAPI.Unshipped.txt from what the PublicApiAnalyzers report (RS0016/RS0017).

Usage: python3 eng/update-public-api.py   (then review the diff: a change there is a public API change)
"""
import json, os, subprocess, sys, tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
project = os.path.join(root, "DbCore.Runtime", "DbCore.Runtime.csproj")
unshipped = os.path.join(root, "DbCore.Runtime", "PublicAPI.Unshipped.txt")
shipped = os.path.join(root, "DbCore.Runtime", "PublicAPI.Shipped.txt")

def read(path):
    with open(path) as f:
        return [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]

lines = set(read(unshipped))
for _ in range(3):
    with open(unshipped, "w") as f:
        f.write("#nullable enable\n" + "".join(l + "\n" for l in sorted(lines, key=str.lower)))
    sarif = os.path.join(tempfile.mkdtemp(), "api.sarif")
    subprocess.run(["dotnet", "build", project, "-f", "net10.0", "--no-incremental", "-nologo", "-v", "quiet",
                    "-p:TreatWarningsAsErrors=false", f"-p:ErrorLog={sarif}%2Cversion=2.1"], check=False,
                   stdout=subprocess.DEVNULL)
    with open(sarif) as f:
        results = [r for run in json.load(f)["runs"] for r in run.get("results", [])]
    added = {r["properties"]["customProperties"]["APIName"] for r in results if r["ruleId"] == "RS0016"}
    removed = {r["message"]["text"].split("'")[1] for r in results if r["ruleId"] == "RS0017"}
    if not added and not removed:
        print(f"PublicAPI.Unshipped.txt is up to date ({len(lines)} entries)")
        sys.exit(0)
    lines = (lines | added) - removed
    print(f"+{len(added)} -{len(removed)}")
sys.exit("did not converge")
