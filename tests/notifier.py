# notifier.py OUTFILE [PINGS]: a service written for systemd's sd_notify:
# STATUS=, READY=1, then WATCHDOG=1 every 100 ms PINGS times (default:
# forever), then silence. On SIGTERM it sends STOPPING=1 and writes to
# OUTFILE whether the send worked (the socket must still be open), then
# exits 0.
import os, signal, socket, sys, time

out = sys.argv[1]
pings = int(sys.argv[2]) if len(sys.argv) > 2 else -1
addr = os.environ["NOTIFY_SOCKET"]
if addr.startswith("@"):
    addr = "\0" + addr[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)

def send(msg):
    s.sendto(msg.encode(), addr)

def term(sig, frame):
    try:
        send("STOPPING=1\nSTATUS=Shutting down")
        r = "stopping sent"
    except OSError as e:
        r = "stopping failed: %s" % e
    with open(out, "w") as f:
        f.write(r + "\n")
    sys.exit(0)

signal.signal(signal.SIGTERM, term)
send("STATUS=Loading")
time.sleep(0.2)
send("READY=1\nSTATUS=Ready to accept connections")
with open(out + ".watchdog", "w") as f:
    f.write(os.environ.get("WATCHDOG_USEC", "") + "\n")
    f.write("pid " + ("ok" if os.environ.get("WATCHDOG_PID") == str(os.getpid()) else
                      "wrong: %r, mine %d" % (os.environ.get("WATCHDOG_PID"), os.getpid())) + "\n")
n = 0
while pings < 0 or n < pings:
    time.sleep(0.1)
    send("WATCHDOG=1")
    n += 1
while True:
    time.sleep(1)
