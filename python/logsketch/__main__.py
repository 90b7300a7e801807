"""``python -m logsketch info``: print the build and machine configuration."""

import sys


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["info"], []):
        from . import show_config

        show_config()
        return 0
    print("usage: python -m logsketch info", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
