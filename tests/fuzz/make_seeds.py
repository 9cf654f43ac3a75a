#!/usr/bin/env python3
"""Writes the binary seeds of the core and goroutines fuzz targets into
corpus/core/ and corpus/goroutines/ (checked in; rerun after changing the
input format of goroutines_fuzz.cc or the layouts below).

core: ELF cores laid out as the Linux kernel writes them (fs/binfmt_elf.c):
the ELF header, one PT_NOTE, then a PT_LOAD per mapping; notes NT_PRSTATUS,
NT_PRPSINFO, NT_SIGINFO, NT_AUXV, NT_FILE, NT_FPREGSET. Mappings are cut to
a few hundred bytes to keep the seeds small.

goroutines: the memory of a parked Go program as goroutines_fuzz.cc reads
it: an options byte, then {u64 address, u16 length, bytes} regions: allgs,
its array, the g's (go1.26 and go1.23 offsets, from
golang/binary/layout_table.cc), their stacks and their labels.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------- cores

PT_LOAD, PT_NOTE = 1, 4


def note(name, ntype, desc):
    name_b = name.encode() + b"\0"
    pad = lambda b: b + b"\0" * (-len(b) % 4)
    return struct.pack("<III", len(name_b), len(desc), ntype) + pad(name_b) + pad(desc)


def nt_file(entries, page=4096):
    """entries: (start, end, page offset, path)."""
    d = struct.pack("<QQ", len(entries), page)
    for start, end, off, _ in entries:
        d += struct.pack("<QQQ", start, end, off // page)
    for *_, path in entries:
        d += path.encode() + b"\0"
    return d


def core(files, loads, extra_notes=b"", truncate=0):
    pid = 4242
    prstatus = bytearray(336)
    struct.pack_into("<iii", prstatus, 0, 11, 0, 0)  # si_signo SIGSEGV
    struct.pack_into("<h", prstatus, 12, 11)  # pr_cursig
    struct.pack_into("<iiii", prstatus, 32, pid, 1, pid, 1)
    prpsinfo = bytearray(136)
    prpsinfo[40:56] = b"server".ljust(16, b"\0")
    prpsinfo[56:136] = b"/app/server -listen :8080".ljust(80, b"\0")
    auxv = b"".join(struct.pack("<QQ", k, v) for k, v in
                    [(33, 0x7ffff7fc1000), (16, 0x178bfbff), (6, 4096),
                     (17, 100), (3, files[0][0] + 64), (4, 56), (5, 9),
                     (7, 0), (8, 0), (9, files[0][0] + 0x1000), (11, 1000),
                     (12, 1000), (13, 1000), (14, 1000), (23, 0),
                     (25, 0x7ffffffde3b9), (31, 0x7fffffffefd6), (0, 0)])
    notes = (note("CORE", 1, bytes(prstatus)) + note("CORE", 3, bytes(prpsinfo))
             + note("CORE", 0x53494749, struct.pack("<iii", 11, 0, 1) + bytes(116))
             + note("CORE", 6, auxv) + note("CORE", 0x46494C45, nt_file(files))
             + note("CORE", 2, bytes(512)) + extra_notes)
    phnum = 1 + len(loads)
    off = 64 + 56 * phnum
    phdrs = struct.pack("<IIQQQQQQ", PT_NOTE, 0, off, 0, 0, len(notes), 0, 0)
    body = notes
    off += len(notes)
    for vaddr, flags, data in loads:
        phdrs += struct.pack("<IIQQQQQQ", PT_LOAD, flags, off, vaddr, 0,
                             len(data), len(data), 0x1000)
        body += data
        off += len(data)
    ehdr = (b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
            + struct.pack("<HHIQQQIHHHHHH", 4, 62, 1, 0, 64, 0, 0, 64, 56,
                          phnum, 0, 0, 0))
    out = ehdr + phdrs + body
    return out[:len(out) - truncate] if truncate else out


def elf_page(vaddr):
    """The first bytes of an executable's first page (its ELF header)."""
    return (b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
            + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, vaddr + 0x1000, 64, 0,
                          0, 64, 56, 4, 64, 0, 0)).ljust(256, b"\0")


def write_cores():
    d = os.path.join(HERE, "corpus", "core")
    os.makedirs(d, exist_ok=True)
    heap = bytes(range(256)) * 2
    stack = struct.pack("<8Q", 0xc000012345, 0x401234, 0, 0x7ffffffde000,
                        0x404001, 0, 0, 0)
    static = [(0x400000, 0x481000, 0, "/app/server"),
              (0x481000, 0x4c2000, 0x81000, "/app/server"),
              (0x4c2000, 0x4c8000, 0xc2000, "/app/server")]
    libc = [(0x7ffff7d80000, 0x7ffff7da8000, 0, "/usr/lib/x86_64-linux-gnu/libc.so.6"),
            (0x7ffff7da8000, 0x7ffff7f3d000, 0x28000, "/usr/lib/x86_64-linux-gnu/libc.so.6")]
    loads = [(0x400000, 5, elf_page(0x400000)), (0x4c2000, 6, bytes(128)),
             (0xc000000000, 6, heap), (0x7ffffffde000, 6, stack)]
    with open(os.path.join(d, "static_go"), "wb") as f:
        f.write(core(static, loads))
    pie = 0x555555554000
    with open(os.path.join(d, "pie_cgo"), "wb") as f:
        f.write(core([(pie, pie + 0x81000, 0, "/app/server (deleted)"),
                      (pie + 0x81000, pie + 0xc2000, 0x81000, "/app/server (deleted)")] + libc,
                     [(pie, 5, elf_page(0)), (0xc000000000, 6, heap),
                      (0x7ffff7d80000, 5, elf_page(0)), (0x7ffffffde000, 6, stack)]))
    with open(os.path.join(d, "truncated"), "wb") as f:
        f.write(core(static, loads, truncate=200))
    thread2 = bytearray(336)
    struct.pack_into("<iiii", thread2, 32, 4243, 1, 4242, 1)
    with open(os.path.join(d, "two_threads"), "wb") as f:
        f.write(core(static, loads, extra_notes=note("CORE", 1, bytes(thread2))
                     + note("CORE", 2, bytes(512))
                     + note("LINUX", 0x202, bytes(64))))


# ------------------------------------------------------------ goroutines

# Fake binary functions (goroutines_fuzz.cc) and allgs.
GOPARK, BLOCK, GOEXIT, BGSWEEP, ASYNC, NOFP, MAIN = (
    0x402000, 0x403000, 0x404000, 0x405000, 0x406000, 0x407000, 0x408000)
ALLGS = 0x500000
GO123, ARM64, INCLUDE_SYSTEM, STATES_ONLY, BIASED = 1, 2, 4, 8, 16
BIAS = 0x7f0000000000

# g offsets: sched, atomicstatus, goid, waitreason, labels, parentGoid,
# gopc, startpc, gobuf.{sp, pc, bp}, waitsince.
LAYOUT = {
    26: dict(sched=56, status=144, goid=152, reason=176, labels=352,
             parent=280, gopc=288, startpc=304, sp=0, pc=8, bp=40, since=168),
    23: dict(sched=56, status=152, goid=160, reason=184, labels=352,
             parent=280, gopc=288, startpc=304, sp=0, pc=8, bp=48, since=176),
}
G_SIZE = 360


class Image:
    def __init__(self, options):
        self.options = options
        self.bias = BIAS if options & BIASED else 0
        self.l = LAYOUT[23 if options & GO123 else 26]
        self.regions = []
        self.gs = []
        self.next_data = 0xc000300000

    def region(self, addr, data):
        assert len(data) < 65536
        self.regions.append(struct.pack("<QH", addr, len(data)) + data)

    def data(self, payload):
        addr = self.next_data
        self.next_data += (len(payload) + 15) // 16 * 16
        self.region(addr, payload)
        return addr

    def labels(self, pairs):
        strs = [(self.data(k.encode()), len(k), self.data(v.encode()), len(v))
                for k, v in pairs]
        if not self.options & GO123:
            arr = self.data(b"".join(struct.pack("<4Q", *s) for s in strs))
            hdr = self.data(struct.pack("<3Q", arr, len(pairs), len(pairs)))
            return hdr
        bucket = bytearray(8 + 8 * 16 + 8 * 16 + 8)
        for i, (kp, kl, vp, vl) in enumerate(strs):
            bucket[i] = 0x80 + i
            struct.pack_into("<QQ", bucket, 8 + i * 16, kp, kl)
            struct.pack_into("<QQ", bucket, 8 + 128 + i * 16, vp, vl)
        b = self.data(bytes(bucket))
        hmap = self.data(struct.pack("<QBBBBIQQ", len(pairs), 0, 0, 0, 0, 0,
                                     b, 0)[:32].ljust(48, b"\0"))
        return self.data(struct.pack("<Q", hmap))

    def g(self, goid, status, frames, reason=14, startpc=BLOCK, labels=0,
          since=0, bp_at=None):
        """frames: (pc, frame size) from the leaf up to goexit."""
        l, bias = self.l, self.bias
        i = len(self.gs)
        addr = 0xc000100000 + i * 0x400
        lo = 0xc000200000 + i * 0x2000
        hi = lo + 0x2000
        arm64 = self.options & ARM64
        # Lay the frames out from the leaf's sp up.
        used = sum(max(size, 8) + (0 if arm64 else 8) for _, size in frames)
        sp = hi - used - 64
        stack = bytearray(hi - sp)
        s = 0
        bp = sp
        for n, (pc, size) in enumerate(frames[:-1]):
            ret = frames[n + 1][0] + bias
            if size < 0:  # frame pointer: [bp] = next bp, [bp+8] = ret
                struct.pack_into("<QQ", stack, s, 0, ret)
                s += 16
                continue
            if arm64:
                struct.pack_into("<Q", stack, s, ret)
                s += size
            else:
                struct.pack_into("<Q", stack, s + size, ret)
                s += size + 8
            if n + 1 < len(frames) and frames[n + 1][1] < 0:
                # The caller has no frame size: it is found by its bp,
                # saved below the return address (amd64) or kept (arm64).
                bp = sp + s
                if not arm64:
                    struct.pack_into("<Q", stack, s - 16, bp)
        head = bytearray(G_SIZE)
        struct.pack_into("<QQ", head, 0, lo, hi)
        struct.pack_into("<Q", head, l["sched"] + l["sp"], sp)
        struct.pack_into("<Q", head, l["sched"] + l["pc"], frames[0][0] + bias)
        struct.pack_into("<Q", head, l["sched"] + l["bp"], bp)
        struct.pack_into("<I", head, l["status"], status)
        struct.pack_into("<Q", head, l["goid"], goid)
        head[l["reason"]] = reason
        struct.pack_into("<q", head, l["since"], since)
        struct.pack_into("<Q", head, l["labels"], labels)
        struct.pack_into("<Q", head, l["parent"], 1)
        struct.pack_into("<Q", head, l["gopc"], MAIN + 0x40 + bias)
        struct.pack_into("<Q", head, l["startpc"], startpc + bias)
        self.region(addr, bytes(head))
        self.region(sp, bytes(stack))
        self.gs.append(addr)

    def bytes(self):
        arr = 0xc000010000
        self.region(ALLGS + self.bias,
                    struct.pack("<3Q", arr, len(self.gs), len(self.gs) + 2))
        self.region(arr, struct.pack("<%dQ" % len(self.gs), *self.gs))
        return bytes([self.options]) + b"".join(self.regions)


def program(options):
    im = Image(options)
    now = 1 << 40
    parked = [(GOPARK + 0x50, 24), (BLOCK + 0x30, 40), (GOEXIT + 1, 0)]
    im.g(1, 4, [(GOPARK + 0x50, 24), (MAIN + 0x20, 88), (GOEXIT + 1, 0)],
         startpc=0x40a000, reason=14)  # runtime.main in chan receive
    im.g(2, 4, [(GOPARK + 0x50, 24), (BGSWEEP + 0x10, 8), (GOEXIT + 1, 0)],
         startpc=BGSWEEP, reason=12)  # a system goroutine
    im.g(17, 4, parked, labels=im.labels([("handler", "checkout"),
                                           ("tenant", "acme")]),
         since=now - 5 * 60 * 10**9)
    im.g(18, 1, parked)  # runnable
    im.g(19, 2, parked)  # running: no stack read
    im.g(20, 3, [(GOPARK + 0x50, 24), (NOFP + 0x10, -1), (MAIN + 0x30, 88),
                 (GOEXIT + 1, 0)])  # syscall, through a frameless function
    if not options & ARM64:
        im.g(21, 9, [(ASYNC + 0x8, 368), (BLOCK + 0x44, 40), (GOEXIT + 1, 0)])
    im.g(22, 6, parked)  # dead
    im.g(23, 4, [(BLOCK, 40), (GOEXIT + 1, 0)], reason=0)  # not started
    return im.bytes()


def write_goroutines():
    d = os.path.join(HERE, "corpus", "goroutines")
    os.makedirs(d, exist_ok=True)
    for name, options in [("go126_amd64", 0), ("go123_amd64_map_labels", GO123),
                          ("go126_arm64", ARM64), ("go126_amd64_pie", BIASED),
                          ("go123_arm64_pie_system", GO123 | ARM64 | BIASED | INCLUDE_SYSTEM),
                          ("go126_states_only", STATES_ONLY | INCLUDE_SYSTEM)]:
        with open(os.path.join(d, name), "wb") as f:
            f.write(program(options))


HEAP_HEAD = 0x500000


def heap_buckets(options, cycle, buckets, counts_only=False, cyclic=False):
    """A bucket list at 0x600000.. linked from HEAP_HEAD: buckets are
    (typ, size, stack, [active, future0, future1, future2]) with each cycle
    (allocs, frees); bytes are count * size unless counts_only."""
    out = struct.pack("<BI", options, cycle)
    addrs = [0x600000 + i * 0x1000 for i in range(len(buckets))]
    out += struct.pack("<QH", HEAP_HEAD, 8) + struct.pack("<Q", addrs[0] if addrs else 0)
    for i, (typ, size, stack, cycles) in enumerate(buckets):
        nxt = addrs[i + 1] if i + 1 < len(addrs) else (addrs[0] if cyclic else 0)
        b = struct.pack("<6Q", 0, nxt, typ, 0x1234, size, len(stack))
        b += b"".join(struct.pack("<Q", pc) for pc in stack)
        for allocs, frees in cycles:
            if counts_only:
                b += struct.pack("<2Q", allocs, frees)
            else:
                b += struct.pack("<4Q", allocs, frees, allocs * size, frees * size)
        out += struct.pack("<QH", addrs[i], len(b)) + b
    return out


def contention_buckets(options, fraction, ticks, records):
    """A mutex or block list linked from HEAP_HEAD: records are (typ, stack,
    count float64, cycles int64); the fuzzer's u32 carries the mutex
    fraction (low byte) and the ticks per second - 1 (the rest)."""
    out = struct.pack("<BI", options, fraction | ((ticks - 1) << 8))
    addrs = [0x600000 + i * 0x1000 for i in range(len(records))]
    out += struct.pack("<QH", HEAP_HEAD, 8) + struct.pack("<Q", addrs[0] if addrs else 0)
    for i, (typ, stack, count, cycles) in enumerate(records):
        nxt = addrs[i + 1] if i + 1 < len(addrs) else 0
        b = struct.pack("<6Q", 0, nxt, typ, 0x1234, 0, len(stack))
        b += b"".join(struct.pack("<Q", pc) for pc in stack)
        b += struct.pack("<dq", count, cycles)
        out += struct.pack("<QH", addrs[i], len(b)) + b
    return out


def write_heap_buckets():
    d = os.path.join(HERE, "corpus", "heap_buckets")
    os.makedirs(d, exist_ok=True)
    # main.work (inlining main.hash) at 0x1000, main.main at 0x2000: the
    # fake process of tests/unit/testing/fake_go_binary.h.
    stack = [0x1011, 0x1011, 0x2021]
    live = [(1, 64, stack, [(10, 4), (1, 0), (2, 1), (0, 0)]),
            (1, 1 << 20, [0x2031], [(3, 0), (0, 0), (0, 0), (1, 0)]),
            (1, 32, [], [(0, 0), (0, 0), (0, 0), (0, 0)])]
    seeds = {
        "go126": heap_buckets(0, 7, live),
        "go127_counts_only": heap_buckets(1, 7, live, counts_only=True),
        "before_first_gc": heap_buckets(8, 0, [(1, 64, stack, [(0, 0), (1, 0), (2, 0), (3, 0)])]),
        "cyclic": heap_buckets(0, 1, live, cyclic=True),
        # nstk 2^40 in the first bucket's header (its 6th word, byte 73).
        "huge_nstk": (lambda b: b[:73] + struct.pack("<Q", 1 << 40) +
                      b[81:])(heap_buckets(0, 1, live)),
        "block": heap_buckets(2, 0, [(2, 0, stack, [(5, 0)] * 4)]),
        "mutex_go119_scaled": contention_buckets(4 | 16, 5, 3_000_000,
                                                 [(3, stack, 7.0, 9_000_000), (3, [0x2031], 0.0, 1)]),
        "block_go123": contention_buckets(2, 0, 3_000_000,
                                          [(2, stack, 0.4, 123_456), (2, [0x1011, 0xffffffffffffffff], 2.0, 5)]),
        "mutex_extreme": contention_buckets(4, 255, 1,
                                            [(3, stack, 1e300, (1 << 63) - 1), (3, stack, float("nan"), -(1 << 63))]),
    }
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    write_cores()
    write_goroutines()
    write_heap_buckets()
