#!/usr/bin/env python3
"""Fails when an #include points up or sideways in tools/check_layers/layers.txt.

Usage: check_layers.py [REPO]   (default: the repository holding this file)
Prints each offending include as FILE:LINE: FROM -> TO and exits 1; exits 0
and prints a one-line summary when every include points down.
"""
import os
import re
import subprocess
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def read_layers(path):
    layer_of = {}
    with open(path) as f:
        for line in f:
            line = line.split('#', 1)[0].split()
            if not line:
                continue
            rank = len(set(layer_of.values()))
            for folder in line:
                if folder in layer_of:
                    sys.exit(f'{path}: {folder} is listed twice')
                layer_of[folder] = rank
    return layer_of


def folder_of(path, layer_of):
    """The longest listed folder that holds path, or None."""
    parts = path.split('/')
    for n in range(len(parts) - 1, 0, -1):
        candidate = '/'.join(parts[:n])
        if candidate in layer_of:
            return candidate
    return None


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(here))
    layer_of = read_layers(os.path.join(here, 'layers.txt'))
    files = subprocess.run(['git', '-C', repo, 'ls-files', '--cached', '--others',
                            '--exclude-standard', '*.h', '*.cc', '*.c'],
                           check=True, capture_output=True, text=True).stdout.split()
    bad, checked, unplaced = [], 0, []
    for path in files:
        source = folder_of(path, layer_of)
        if source is None:
            unplaced.append(path)
            continue
        full = os.path.join(repo, path)
        if not os.path.exists(full):
            continue
        with open(full, errors='replace') as f:
            for number, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = folder_of(m.group(1), layer_of)
                if target is None or target == source:
                    continue  # a system or third-party header, or its own folder
                checked += 1
                if layer_of[target] >= layer_of[source]:
                    way = 'sideways' if layer_of[target] == layer_of[source] else 'up'
                    bad.append(f'{path}:{number}: {source} -> {target} ({way})')
    for path in unplaced:
        bad.append(f'{path}: in no folder of layers.txt')
    if bad:
        print('\n'.join(bad))
        print(f'{len(bad)} include(s) break the layering (tools/check_layers/layers.txt)')
        return 1
    print(f'layering: {checked} includes across folders, all pointing down')
    return 0


if __name__ == '__main__':
    sys.exit(main())
