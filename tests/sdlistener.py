# sdlistener.py ADDR OUTFILE: systemd's side of sd_notify for tests. Binds
# an AF_UNIX datagram socket at ADDR (a path, or @name for an abstract
# one), writes "ready" to OUTFILE.up once bound, then appends each
# datagram to OUTFILE as one line, its newlines shown as '|', flushed at
# once. Runs until killed.
import os, socket, sys

addr, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
with open(out + ".up", "w") as f:
    f.write("ready\n")
with open(out, "a") as f:
    while True:
        m = s.recv(65536)
        f.write(m.decode(errors="replace").strip("\n").replace("\n", "|") + "\n")
        f.flush()
