"""What `xxd`, `hexdump -C` and `od -c` print for some bytes, byte for byte as GNU od, xxd
(vim 9) and util-linux hexdump do (runs of equal lines are not folded into `*`): tests need
the dumps an agent sees without the tools installed."""

from __future__ import annotations


def _shown(chunk: bytes) -> str:
    return "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)


def xxd(data: bytes) -> str:
    lines = []
    for o in range(0, len(data), 16):
        chunk = data[o : o + 16]
        digits = " ".join(chunk[k : k + 2].hex() for k in range(0, len(chunk), 2))
        lines.append(f"{o:08x}: {digits:<39}  {_shown(chunk)}")
    return "".join(line + "\n" for line in lines)


def hexdump_c(data: bytes) -> str:
    lines = []
    for o in range(0, len(data), 16):
        chunk = data[o : o + 16]
        left = " ".join(f"{b:02x}" for b in chunk[:8])
        right = " ".join(f"{b:02x}" for b in chunk[8:])
        lines.append(f"{o:08x}  {left:<23}  {right:<23}  |{_shown(chunk)}|")
    if data:  # nothing at all for no bytes
        lines.append(f"{len(data):08x}")
    return "".join(line + "\n" for line in lines)


_OD = {0: "\\0", 7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r"}


def od_c(data: bytes) -> str:
    lines = []
    for o in range(0, len(data), 16):
        fields = (_OD.get(b) or (chr(b) if 32 <= b < 127 else f"{b:03o}") for b in data[o : o + 16])
        lines.append(f"{o:07o}" + "".join(f"{f:>4}" for f in fields))
    lines.append(f"{len(data):07o}")
    return "\n".join(lines) + "\n"


DUMPS = {"xxd": xxd, "hexdump -C": hexdump_c, "od -c": od_c}
