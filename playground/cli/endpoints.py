"""The ``endpoints`` command: OpenAI-compatible servers saved under a name, used as
``--model remote:NAME``."""

from __future__ import annotations

import argparse
from typing import TextIO

from playground.engine.endpoints import (
    Endpoint,
    load_endpoints,
    remove_endpoint,
    resolve_endpoint,
    save_endpoint,
    store_key_in_keyring,
)
from playground.engine.remote import RemoteBackend
from playground.errors import PlaygroundError
from playground.terminal import escape_controls


def cmd_endpoints(args: argparse.Namespace, out: TextIO) -> int:
    action = args.endpoints_command
    if action == "add":
        endpoint = Endpoint(args.name, args.base_url, args.model, args.api_key_env, args.keyring)
        if args.keyring:
            import getpass

            secret = getpass.getpass(f"API key for {args.name}: ")
            if not secret:
                raise PlaygroundError("no key given; nothing was saved")
            store_key_in_keyring(args.name, secret)
        save_endpoint(endpoint)
        out.write(f"saved; use it as --model remote:{args.name}\n")
    elif action == "remove":
        remove_endpoint(args.name)
        out.write(f"removed {args.name}\n")
    elif action == "check":
        with RemoteBackend(resolve_endpoint("remote:" + args.name)) as backend:
            models = backend.models()
        # Model names are the server's words: a message, escaped even when piped.
        out.write(escape_controls("\n".join(models))
                  + ("\n" if models else "the server lists no models\n"))
    else:
        saved = load_endpoints()
        for e in saved.values():
            key = f"  key from ${e.api_key_env}" if e.api_key_env else ""
            key = "  key in the OS keyring" if e.api_key_keyring else key
            out.write(f"remote:{e.name}  {e.base_url}  model {e.model}{key}\n")
        if not saved:
            out.write("no endpoints saved; add one with `playground endpoints add`\n")
    return 0
