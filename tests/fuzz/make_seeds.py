#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the seed corpora in corpus/<target>/ (committed; rerun after a
harness changes how it reads its input). Each seed is a well-formed case,
so the fuzzer starts from inputs that reach deep into the code."""
import os
import shutil
import ssl
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def irq_caps():
    # vfio_irq_info_v6 (argsz, flags=CAPS, index, count, cap_offset), then the
    # GFX/DISPLAY_IRQ type capability and the DISPLAY capability.
    type_cap = struct.pack("<HHIII", 1, 1, 36, 1, 1)
    display_cap = struct.pack("<HHIQQ", 2, 1, 0, 2, 1)
    body = type_cap + display_cap
    put("fuzz_irq_caps", "display_irq", struct.pack("<IIIII", 20 + len(body), 1 << 4, 5, 1, 20) + body)
    put("fuzz_irq_caps", "no_caps", struct.pack("<IIIII", 20, 0, 0, 1, 0))


def config():
    for name in sorted(os.listdir(os.path.join(ROOT, "conf"))):
        with open(os.path.join(ROOT, "conf", name), "rb") as f:
            put("fuzz_config", name, f.read())
    put("fuzz_config", "small.conf",
        b"uuid = 4b20d080-1b54-4048-85b3-a6a62d165c01\nlisten = 127.0.0.1:5901\n"
        b"refresh_hz = 30\nedid_size = 1024x768\nshare = exclusive\n")


FOURCCS = 12  # fuzz_plane.c's table
MODIFIERS = 4


def plane():
    bpp = [4, 4, 4, 4, 2, 4, 4, 2, 2, 2, 2, 1]
    for f in range(FOURCCS):
        for m in range(MODIFIERS):
            w, h = (37, 21) if m == 0 else (130, 70)
            # take_layout: format, modifier, width, height, no high bits, a
            # stride hint (row bytes + extra), then take_size's hint (exact).
            extra = 0 if m == 0 else (512 - (w * bpp[f]) % 512) % 512
            head = struct.pack("<BBHHBI", f, m, w, h, 0, extra) + struct.pack("<I", 0)
            rect = struct.pack("<HHHHI", 3, 5, 17, 9, 77)
            put("fuzz_plane", "f%d_m%d" % (f, m), head + rect + bytes(range(64)))


def edid():
    # vfio_region_info (argsz, flags=CAPS, index, cap_offset, size, offset),
    # then a type capability naming GFX / EDID.
    cap = struct.pack("<HHIII", 2, 1, 0, 1, 1)
    info = struct.pack("<IIIIQQ", 32 + len(cap), 1 << 3, 0, 32, 4096, 0) + cap
    mode = struct.pack("<IIII", 1920, 1080, 2560, 1600) + b"mdev-vncd"
    put("fuzz_edid", "edid_cap", bytes([len(info) // 16]) + info + mode)
    put("fuzz_edid", "huge_mode", bytes([0]) + struct.pack("<IIII", 65535, 65535, 0, 0))


def tls():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for name, version in (("tls13", ssl.TLSVersion.TLSv1_3), ("tls12", ssl.TLSVersion.TLSv1_2)):
        ctx.maximum_version = version
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        conn = ctx.wrap_bio(incoming, outgoing, server_hostname="fuzz")
        try:
            conn.do_handshake()
        except ssl.SSLWantReadError:
            pass
        put("fuzz_tls_relay", name + "_client_hello", outgoing.read())


def rfb():
    set_pixel_format = struct.pack(">B3xBBBBHHHBBB3x", 0, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
    encodings = [0, 1, 5, 6, 7, 16, -223, -239, -308, -314]  # raw..ZRLE, DesktopSize, cursor, ExtDesktopSize, ContinuousUpdates
    set_encodings = struct.pack(">BxH", 2, len(encodings)) + b"".join(struct.pack(">i", e) for e in encodings)
    update = struct.pack(">BBHHHH", 3, 0, 0, 0, 64, 48)
    incremental = struct.pack(">BBHHHH", 3, 1, 0, 0, 64, 48)
    desktop_size = struct.pack(">BxHHB x", 251, 800, 600, 1) + struct.pack(">IHHHHI", 0, 0, 0, 800, 600, 0)
    key = struct.pack(">BBxxI", 4, 1, 0x61)
    pointer = struct.pack(">BBHH", 5, 1, 10, 10)
    cut = struct.pack(">B3xI", 6, 5) + b"hello"
    messages = set_pixel_format + set_encodings + update + desktop_size + incremental + key + pointer + cut
    # First byte: bit 0 = password server, bit 1 = size requests taken.
    put("fuzz_rfb", "open_38", b"\x02" + b"RFB 003.008\n" + b"\x01" + b"\x01" + messages)
    put("fuzz_rfb", "open_33", b"\x00" + b"RFB 003.003\n" + b"\x01" + messages)
    put("fuzz_rfb", "password_wrong", b"\x01" + b"RFB 003.008\n" + b"\x02" + bytes(16) + b"\x01" + messages)


def vencrypt():
    # First byte: the offer; then the client's version 0.2 and its subtype
    # (260 X509None, 261 X509Vnc, 262 X509Plain), big-endian.
    for subtype in (260, 261, 262):
        put("fuzz_vencrypt", "subtype_%d" % subtype, bytes([2]) + b"\x00\x02" + struct.pack(">I", subtype))
    put("fuzz_vencrypt", "plain_login", bytes([0]) + b"\x00\x02" + struct.pack(">III", 262, 4, 4) + b"userpass")


def qmp():
    # First byte: the read size (1 + 8n); then what QEMU's monitor says.
    greeting = b'{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, "capabilities": ["oob"]}}\r\n'
    ready = greeting + b'{"return": {}}\r\n'
    put("fuzz_qmp", "session", b"\xff" + ready + b'{"return": {}, "id": 2}\r\n'
        + b'{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "STOP"}\r\n'
        + b'{"error": {"class": "GenericError", "desc": "VM not running"}, "id": 3}\r\n')
    put("fuzz_qmp", "split_reads", b"\x00" + ready + b'{"return": {}, "id": 2}\r\n')
    put("fuzz_qmp", "refused_capabilities", b"\x10" + greeting
        + b'{"error": {"class": "CommandNotFound", "desc": "no"}}\r\n')
    put("fuzz_qmp", "no_object", b"\x04" + greeting + b'[1, 2]\r\n')


def main():
    shutil.rmtree(os.path.join(HERE, "corpus"), ignore_errors=True)
    for make in (irq_caps, config, plane, edid, tls, rfb, vencrypt, qmp):
        make()
    return 0


if __name__ == "__main__":
    sys.exit(main())
