"""A loopback SMTP server that misbehaves on request: 421 at the greeting, no greeting at all, no reply after
the final dot, a connection dropped before or after the final dot, 550 for one recipient, a slow reply.

Raw sockets (not aiosmtpd) so that each fault happens at exactly the byte it names. `received` holds every
message whose final dot arrived (a server that drops the line after the dot may still deliver it), keyed by
its X-Tracker-Reminder header.
"""
from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections import Counter


class Sink:
    def __init__(self):
        self.greeting_421 = False
        self.hang_greeting = False
        self.refuse: set[str] = set()  # recipients answered 550
        #: Faults for the Nth message (1-based) whose DATA the sink receives: "hang_after_dot",
        #: "drop_after_dot", "drop_before_dot".
        self.faults: dict[int, str] = {}
        self.reply_delay = 0.0
        self.received: list[str] = []
        self.data_started = 0
        self.lock = threading.Lock()
        self.released = threading.Event()  # ends hangs
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            rbufsize = 0  # read no further than the fault: unread bytes make a close a reset, as on a real server

            def handle(self):
                sink.serve(self.connection, self.rfile)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
        self.server.allow_reuse_address = True
        self.server.daemon_threads = True
        self.server.server_bind()
        self.server.server_activate()
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def counts(self) -> Counter:
        with self.lock:
            return Counter(self.received)

    def close(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def serve(self, conn: socket.socket, rfile):
        def say(line: str):
            conn.sendall(line.encode() + b"\r\n")

        try:
            if self.hang_greeting:
                self.released.wait(30)
                return
            if self.greeting_421:
                say("421 4.3.2 Service not available, closing transmission channel")
                return
            say("220 sink.test ESMTP")
            while True:
                raw = rfile.readline()
                if not raw:
                    return
                command = raw.decode("ascii", "replace").strip()
                verb = command[:4].upper()
                if verb in ("EHLO", "HELO"):
                    say("250 sink.test")
                elif verb == "MAIL":
                    say("250 OK")
                elif verb == "RCPT":
                    address = command.partition(":")[2].strip().strip("<>").lower()
                    say("550 5.1.1 No such mailbox" if address in self.refuse else "250 OK")
                elif verb == "DATA":
                    with self.lock:
                        self.data_started += 1
                        number = self.data_started
                    fault = self.faults.get(number)
                    say("354 End data with <CR><LF>.<CR><LF>")
                    reference = None
                    lines = 0
                    while True:
                        line = rfile.readline()
                        if not line:
                            return
                        lines += 1
                        if fault == "drop_before_dot" and lines == 3:
                            return  # closes the connection mid-message
                        if line == b".\r\n":
                            break
                        if line.lower().startswith(b"x-tracker-reminder:"):
                            reference = line.split(b":", 1)[1].strip().decode()
                    with self.lock:
                        self.received.append(reference)
                    if fault == "drop_after_dot":
                        return
                    if fault == "hang_after_dot":
                        self.released.wait(30)
                        return
                    if self.reply_delay:
                        time.sleep(self.reply_delay)
                    say("250 2.0.0 Accepted")
                elif verb == "RSET" or verb == "NOOP":
                    say("250 OK")
                elif verb == "QUIT":
                    say("221 Bye")
                    return
                else:
                    say("502 Command not implemented")
        except OSError:
            return
        finally:
            try:
                conn.close()
            except OSError:
                pass
