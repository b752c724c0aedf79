"""A local SMTP catcher for trying e-mail reminders: prints each mail it is sent, decoded.

    uv run python tools/mailcatcher.py [--port 8025]
    SMTP__HOST=127.0.0.1 SMTP__PORT=8025 SMTP__TLS=none uv run taizhang sandbox

It accepts everything (nothing is relayed anywhere) and prints From, To, Subject and the plain
text part, where the personal link can be copied from. Ctrl-C stops it. See docs/sandbox.md.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import threading

from aiosmtpd.controller import Controller


class Printer:
    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(("plain",))
        print("─" * 72)
        for name in ("From", "To", "Subject", "Date"):
            print(f"{name}: {message[name]}")
        print()
        print(body.get_content() if body is not None else "(no plain text part)", flush=True)
        return "250 Message accepted"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    args = parser.parse_args()
    controller = Controller(Printer(), hostname=args.host, port=args.port)
    controller.start()
    print(f"catching mail on {args.host}:{args.port} (Ctrl-C stops)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
