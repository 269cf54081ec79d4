#!/usr/bin/env python3
"""Mutation tests: each subtle point of a family's code, changed, must make its fixture fail.

    python3 scripts/mutations.py [--keep] [family ...]

tests/mutations.json lists the mutations: {"family", "what", "file", "find", "replace",
"fixture"}. For each one the script copies the engine's sources to a scratch folder, builds
test-families natively once (it must pass there unchanged), then per mutation replaces `find`
(which must occur exactly once in `file`) by `replace`, rebuilds, runs test-families on the
mutation's fixture and requires a failure. It prints a line per mutation and exits 1 when a
mutation survives (the fixtures do not see that point) or a `find` no longer matches (the
code moved on: update the list).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, cwd, quiet=True):
    return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE if quiet else None,
                          stderr=subprocess.STDOUT if quiet else None, text=True)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    keep = '--keep' in sys.argv
    with open(os.path.join(ROOT, 'tests', 'mutations.json')) as f:
        muts = [m for m in json.load(f)['mutations'] if not args or m['family'] in args]
    work = tempfile.mkdtemp(prefix='wembed-mutations-')
    try:
        for part in ('src', 'tests', 'cmake', 'wasm', 'CMakeLists.txt'):
            src = os.path.join(ROOT, part)
            dst = os.path.join(work, part)
            if os.path.isdir(src):
                # test data is read in place (WEMBED_TEST_DATA points into the copy's tests/data)
                shutil.copytree(src, dst, symlinks=True)
            else:
                shutil.copy(src, dst)
        build = os.path.join(work, 'build')
        r = run(['cmake', '-S', work, '-B', build, '-DCMAKE_BUILD_TYPE=Release'], work)
        if r.returncode:
            print(r.stdout)
            return 1
        jobs = os.environ.get('JOBS', str(os.cpu_count() or 2))

        # A mutation names its test program ("test", default test-families, which takes the
        # fixture as argument; other programs run whole, "fixture" empty).
        def build_and_test(fixture, test='test-families'):
            r = run(['cmake', '--build', build, '-j', jobs, '--target', test], work)
            if r.returncode:
                return 'build failed', r.stdout
            r = run([os.path.join(build, test)] + ([fixture] if fixture else []), work)
            return ('passed' if r.returncode == 0 else 'failed'), r.stdout

        for fx, test in sorted({(m['fixture'], m.get('test', 'test-families')) for m in muts}):
            status, out = build_and_test(fx, test)
            if status != 'passed':
                print(f'unmutated {fx}: {status}\n{out}')
                return 1
        survived = 0
        for m in muts:
            path = os.path.join(work, m['file'])
            with open(path) as f:
                text = f.read()
            count = text.count(m['find'])
            if count != 1:
                print(f"STALE    {m['family']}: {m['what']}: `{m['find']}` occurs {count} times in {m['file']}")
                survived += 1
                continue
            with open(path, 'w') as f:
                f.write(text.replace(m['find'], m['replace']))
            try:
                status, out = build_and_test(m['fixture'], m.get('test', 'test-families'))
            finally:
                with open(path, 'w') as f:
                    f.write(text)
            if status == 'passed':
                survived += 1
                print(f"SURVIVED {m['family']}: {m['what']}")
            else:
                print(f"caught   {m['family']}: {m['what']} ({status})")
        print(f'{len(muts) - survived} caught, {survived} survived')
        return 1 if survived else 0
    finally:
        if keep:
            print('scratch tree kept at', work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
