"""`ox-echo-agent`: a fake agent CLI. Reads the prompt on stdin, prints one JSON line.

`ox-echo-agent [--prefix TEXT] [--model NAME]`; `--version` prints its version. An empty
prompt is an error (exit 2), as a real CLI would refuse it.
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ox-echo-agent")
    parser.add_argument("--prefix", default="")
    parser.add_argument("--model", default="echo-1")
    parser.add_argument("--version", action="store_true")
    args = parser.parse_args(argv)
    if args.version:
        print("ox-echo-agent 0.1.0")
        return 0
    prompt = sys.stdin.read()
    if not prompt.strip():
        print("ox-echo-agent: empty prompt", file=sys.stderr)
        return 2
    words = len(prompt.split())
    event = {
        "type": "result",
        "result": args.prefix + prompt.strip(),
        "model": args.model,
        "usage": {"input_tokens": words, "output_tokens": words},
    }
    print(json.dumps(event))
    return 0


if __name__ == "__main__":
    sys.exit(main())
